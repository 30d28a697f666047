export * from './errors.js';
export * from './manifest.js';
export * from './export.js';
export * from './scorer.js';
export * from './inspect.js';
export { readModelBytes, type ModelSource } from './session.js';
