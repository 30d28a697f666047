/**
 * Scoring through an ONNX graph exactly as `scoreDetector` scores in TypeScript: the manifest's
 * input window before the graph, then its score window, calibration and contribution shares after.
 * (slow features differenced, then the trailing input mean) The graph computes the family's raw score only (see shared/ml/onnx/export.ts).
 * A user's own model (BYO) is scored by its declared threshold and score range instead.
 */
import { calibrateAll } from '../calibration.js';
import { trailingMean } from '../multivariate/causal.js';
import { contributionShares, transformInputs } from '../multivariate/detector.js';
import { assertValidMatrix, type Matrix } from '../multivariate/matrix.js';
import type { ModelManifest } from '../onnx/manifest.js';
import { UnprocessableError } from '../../platform/errors.js';
import type { ByoManifest, ScoreRange } from './model.js';

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

export type ByoScoringManifest = Pick<ByoManifest, 'features' | 'scoreRange' | 'threshold'>;

/** A BYO model's raw score as predict reports it: as returned, unless its declared range says to clamp or rescale. */
export function reportedScore(raw: number, range: ScoreRange | undefined): number {
  if (!range || range.scale === 'none') return raw;
  if (range.scale === 'clamp') return Math.min(range.max, Math.max(range.min, raw));
  return Math.min(1, Math.max(0, (raw - range.min) / (range.max - range.min)));
}

/** Each row's shares of the absolute contributions (a BYO model's may be signed, e.g. SHAP values). */
function absoluteShares(contributions: Float64Array, cols: number): Float64Array {
  const out = new Float64Array(contributions.length);
  for (let o = 0; o < contributions.length; o += cols) {
    let total = 0;
    for (let c = 0; c < cols; c++) total += Math.abs(contributions[o + c]);
    for (let c = 0; c < cols; c++) out[o + c] = total > 0 && Number.isFinite(total) ? Math.abs(contributions[o + c]) / total : 1 / cols;
  }
  return out;
}

/**
 * Scores rows with a user's own model: no windows or calibration of ours. A row is anomalous when
 * its raw score is at or above the declared threshold; the score is mapped by the declared range.
 */
export async function scoreByoWithOnnx(scorer: RawScorer, manifest: ByoScoringManifest, rows: Matrix): Promise<OnnxDetection> {
  assertValidMatrix(rows, { cols: manifest.features.length });
  const out = await scorer.score(Float32Array.from(rows.data));
  const raw = out.score;
  const scores = new Float64Array(raw.length);
  const labels = new Uint8Array(raw.length);
  for (let r = 0; r < raw.length; r++) {
    if (!Number.isFinite(raw[r])) throw new UnprocessableError(`The model gave a non-finite score (${raw[r]}) for row ${r}.`);
    scores[r] = reportedScore(raw[r], manifest.scoreRange);
    labels[r] = raw[r] >= manifest.threshold ? 1 : 0;
  }
  return { scores, labels, raw, contributions: out.contributions ? absoluteShares(out.contributions, rows.cols) : null };
}
