export * from './errors.js';
export * from './manifest.js';
export * from './export.js';
export * from './scorer.js';
export * from './inspect.js';
export { MODEL_LIMITS, OnnxModelRefusedError, assertSafeModel, type ModelLimits } from './modelGuard.js';
export { readModelBytes, type ModelSource } from './session.js';
