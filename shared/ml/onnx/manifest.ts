/**
 * ModelManifest: everything a scorer needs besides the graph (features and their order, the
 * normalisation, windows, calibration and threshold, training metrics). It travels inside the ONNX
 * file (metadata_props key `telltale.manifest`) and can be stored beside it as a sidecar JSON.
 */
import { z } from 'zod';
import { DETECTOR_KINDS, type FittedDetector } from '../multivariate/detector.js';

export const MANIFEST_METADATA_KEY = 'telltale.manifest';

const finite = z.number().refine(Number.isFinite, 'must be finite');

export const calibratorSchema = z.object({
  grid: z.array(finite).min(2),
  tailStart: finite,
  tailMass: finite.positive(),
  tailScale: finite.positive(),
  tailShape: finite.min(0).optional(),
  falseAlarmRate: finite.positive(),
  rawThreshold: finite,
  threshold: finite,
});

export const modelSignatureSchema = z.object({
  inputName: z.string().min(1),
  featureCount: z.number().int().positive(),
  scoreOutput: z.string().min(1),
  contributionsOutput: z.string().min(1).optional(),
});
export type ModelSignature = z.infer<typeof modelSignatureSchema>;

export const modelManifestSchema = z.object({
  format: z.literal('telltale.model-manifest/1'),
  detector: z.enum([...DETECTOR_KINDS, 'external']),
  features: z.array(z.string().min(1)).min(1),
  signature: modelSignatureSchema,
  /** Standardisation inside the graph (informational for our models; BYO models may declare theirs). */
  normalisation: z.object({ mean: z.array(finite), std: z.array(finite) }).optional(),
  /** Trailing-mean windows the caller applies to inputs before the graph and to its score after. */
  inputWindow: z.number().int().min(1),
  scoreWindow: z.number().int().min(1),
  /** Features the caller replaces by their change over `lag` rows before the input mean (DetectorOptions.slowFeatures). */
  slowFeatures: z.object({ features: z.array(z.number().int().nonnegative()), lag: z.number().int().min(1) }).optional(),
  calibration: calibratorSchema,
  training: z.object({ rows: z.number().int().nonnegative(), seconds: z.number().nonnegative() }).catchall(z.number()),
});
export type ModelManifest = z.infer<typeof modelManifestSchema>;

function normalisationOf(detector: FittedDetector): ModelManifest['normalisation'] {
  const m = detector.model;
  return m.kind === 'iforest' ? undefined : { mean: m.mean, std: m.std };
}

export function buildManifest(detector: FittedDetector): ModelManifest {
  return {
    format: 'telltale.model-manifest/1',
    detector: detector.kind,
    features: detector.featureNames,
    signature: { inputName: 'input', featureCount: detector.featureNames.length, scoreOutput: 'score', contributionsOutput: 'contributions' },
    normalisation: normalisationOf(detector),
    inputWindow: detector.inputWindow,
    scoreWindow: detector.scoreWindow,
    ...(detector.slow ? { slowFeatures: detector.slow } : {}),
    calibration: detector.calibration,
    training: detector.training,
  };
}

/** Parses a manifest from JSON text; throws zod's error naming the bad field. */
export function parseManifest(json: string): ModelManifest {
  return modelManifestSchema.parse(JSON.parse(json));
}
