/**
 * Scoring through an ONNX graph exactly as `scoreDetector` scores in TypeScript: the manifest's
 * input window before the graph, then its score window, calibration and contribution shares after.
 * (slow features differenced, then the trailing input mean) The graph computes the family's raw score only (see shared/ml/onnx/export.ts).
 */
import { calibrateAll } from '../calibration.js';
import { trailingMean } from '../multivariate/causal.js';
import { contributionShares, transformInputs } from '../multivariate/detector.js';
import { assertValidMatrix, type Matrix } from '../multivariate/matrix.js';
import type { ModelManifest } from '../onnx/manifest.js';

/** What predict needs from an onnxruntime session (OnnxScorer satisfies it). */
export interface RawScorer {
  readonly featureCount: number;
  score(rows: Float32Array): Promise<{ score: Float64Array; contributions?: Float64Array }>;
}

export type ScoringManifest = Pick<ModelManifest, 'features' | 'inputWindow' | 'scoreWindow' | 'slowFeatures' | 'calibration'>;

export interface OnnxDetection {
  scores: Float64Array;
  labels: Uint8Array;
  raw: Float64Array;
  /** rows x features shares summing to 1 per row; null when the graph has no contributions output. */
  contributions: Float64Array | null;
}

/** Scores consecutive rows (windows start empty, as a fresh stream). Throws InvalidInputError on bad rows. */
export async function scoreWithOnnx(scorer: RawScorer, manifest: ScoringManifest, rows: Matrix): Promise<OnnxDetection> {
  assertValidMatrix(rows, { cols: manifest.features.length });
  const inputs = transformInputs(rows, manifest.inputWindow, manifest.slowFeatures);
  const out = await scorer.score(Float32Array.from(inputs.data));
  const raw = trailingMean(out.score, manifest.scoreWindow);
  const { scores, labels } = calibrateAll(manifest.calibration, raw);
  return { scores, labels, raw, contributions: out.contributions ? contributionShares(out.contributions, rows.cols) : null };
}
