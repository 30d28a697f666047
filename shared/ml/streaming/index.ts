export { StreamingDetector, sensitivityToThreshold, resolveConfig, type StreamingDetectorOptions } from './detector.js';
export { detectSeries, type BatchDetectOptions, type BatchDetectResult } from './batch.js';
export { anomalyKinds, streamingStateSchema, type AnomalyKind, type StreamingConfig, type StreamingPoint, type StreamingState } from './state.js';
export { scoreEvents, poolEventScores, type EventWindow, type EventScoreResult, type EventScoreTotals, type WindowOutcome } from './eventScore.js';
export * from './errors.js';
