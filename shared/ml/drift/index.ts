export { summariseReference, referenceSummarySchema, featureReferenceSchema, type ReferenceSummary, type FeatureReference, type SummariseOptions } from './reference.js';
export { detectDrift, DRIFT_THRESHOLDS, type DriftReport, type DriftVerdict, type FeatureDrift } from './detectDrift.js';
export { kolmogorovSmirnov, kolmogorovTail, populationStabilityIndex } from './tests.js';
