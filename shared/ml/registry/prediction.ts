import { z } from 'zod';
import { ValidationError } from '../../platform/errors.js';
import { resourceId } from '../../platform/ids.js';
import type { Matrix } from '../multivariate/matrix.js';
import type { ModelManifest } from '../onnx/manifest.js';
import { translated } from './errors.js';
import type { ByoManifest } from './model.js';
import { reportedScore, scoreByoWithOnnx, scoreWithOnnx, type RawScorer } from './onnxScoring.js';

export const MAX_PREDICT_ROWS = 10_000;
/** Values per request; keeps the answer under Lambda's 6 MB response limit. */
export const MAX_PREDICT_VALUES = 200_000;

export const predictRequest = z.strictObject({
  modelId: resourceId.describe('A model of the registry, or a baseline model of the layer (baseline-pca, baseline-autoencoder)'),
  version: z.number().int().min(1).optional().describe('Default: the model\'s current version'),
  rows: z
    .array(z.array(z.number().nullable()).min(1).max(1000))
    .min(1)
    .max(MAX_PREDICT_ROWS)
    .describe('Feature rows in time order, features in the model\'s order; windows start afresh with each request'),
  features: z.array(z.string()).max(1000).optional().describe('The names of the columns of rows; checked against the model\'s features and order'),
});
export type PredictRequest = z.infer<typeof predictRequest>;

export const predictResponse = z.object({
  model: z.object({ id: z.string(), version: z.number().int(), detector: z.string(), source: z.enum(['registry', 'layer']) }),
  features: z.array(z.string()),
  threshold: z.number().describe('Score at and above which a row is labelled anomalous'),
  results: z.array(
    z.object({
      score: z.number().describe('Calibrated anomaly score in [0, 1]; for a model brought by its owner, its score as mapped by the declared score range'),
      label: z.union([z.literal(0), z.literal(1)]),
      contributions: z.array(z.number()).nullable().describe('Each feature\'s share of the row\'s anomaly, in the order of features'),
    }),
  ),
});
export type PredictResponse = z.infer<typeof predictResponse>;

export interface LoadedModel {
  id: string;
  version: number;
  source: 'registry' | 'layer';
  /** Ours (windows, calibration), or a BYO model's declared signature and threshold. */
  manifest: ModelManifest | ByoManifest;
  scorer: RawScorer;
}

const isByo = (manifest: ModelManifest | ByoManifest): manifest is ByoManifest => manifest.format === 'telltale.byo-manifest/1';

/** Finds a tenant's model (or a baseline) and its onnxruntime session; 404 / 409 / 422 as typed errors. */
export interface ModelLoader {
  load(tenant: string, id: string, version?: number): Promise<LoadedModel>;
}

function checkFeatures(given: readonly string[] | undefined, expected: readonly string[]): void {
  if (!given) return;
  const same = given.length === expected.length && given.every((f, i) => f === expected[i]);
  if (same) return;
  const sameSet = given.length === expected.length && [...given].sort().join('\u0000') === [...expected].sort().join('\u0000');
  const message = sameSet
    ? `The features are in the wrong order: the model expects ${expected.join(', ')}.`
    : `The model takes the features ${expected.join(', ')} (${expected.length}); got ${given.join(', ')} (${given.length}).`;
  throw new ValidationError(message, [{ pointer: 'body.features', message }]);
}

/** Rows to a matrix, refusing ragged rows and nulls (JSON's stand-in for NaN) with the row and feature. */
export function rowsToMatrix(rows: readonly (readonly (number | null)[])[], cols: number): Matrix {
  if (rows.length * cols > MAX_PREDICT_VALUES) {
    throw new ValidationError(`${rows.length} rows of ${cols} features is more than ${MAX_PREDICT_VALUES} values; send fewer rows per request.`, [{ pointer: 'body.rows', message: 'Too many values' }]);
  }
  const data = new Float64Array(rows.length * cols);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (row.length !== cols) {
      const message = `Row ${r} has ${row.length} values; the model takes ${cols} features.`;
      throw new ValidationError(message, [{ pointer: `body.rows.${r}`, message }]);
    }
    for (let c = 0; c < cols; c++) {
      const v = row[c];
      if (v === null) {
        const message = `Row ${r}, feature ${c} is null; every value must be a finite number (impute missing values first).`;
        throw new ValidationError(message, [{ pointer: `body.rows.${r}.${c}`, message }]);
      }
      data[r * cols + c] = v;
    }
  }
  return { rows: rows.length, cols, data };
}

/**
 * Scores feature rows with a model.
 * Primary course: the model (registry or layer) is loaded or taken from this container's cache,
 * the rows are checked against its features, scored through onnxruntime exactly as the
 * TypeScript detector scores, and each row gets score, label and contributions. A model brought
 * by its owner is run by its declared signature: its score (mapped by the declared range), labelled
 * by the declared threshold, contributions from its declared output.
 * Alternatives: unknown or another tenant's model 404; not READY 409; unloadable 422; bad rows 400.
 */
/** Scores rows with a loaded model, ours or brought by its owner, and says the threshold on the score's scale. */
export async function scoreLoadedModel(model: LoadedModel, matrix: Matrix) {
  const manifest = model.manifest;
  const scored = await translated(() => (isByo(manifest) ? scoreByoWithOnnx(model.scorer, manifest, matrix) : scoreWithOnnx(model.scorer, manifest, matrix)));
  const threshold = isByo(manifest) ? reportedScore(manifest.threshold, manifest.scoreRange) : manifest.calibration.threshold;
  return { scored, threshold };
}

export async function predict(loader: ModelLoader, tenant: string, request: PredictRequest): Promise<PredictResponse> {
  const model = await loader.load(tenant, request.modelId, request.version);
  const features = model.manifest.features;
  checkFeatures(request.features, features);
  const matrix = rowsToMatrix(request.rows, features.length);
  const manifest = model.manifest;
  const { scored: result, threshold } = await scoreLoadedModel(model, matrix);
  const cols = features.length;
  const results: PredictResponse['results'] = new Array(matrix.rows);
  for (let r = 0; r < matrix.rows; r++) {
    results[r] = {
      score: result.scores[r],
      label: result.labels[r] === 1 ? 1 : 0,
      contributions: result.contributions ? Array.from(result.contributions.subarray(r * cols, (r + 1) * cols)) : null,
    };
  }
  return {
    model: { id: model.id, version: model.version, detector: manifest.detector, source: model.source },
    features,
    threshold,
    results,
  };
}
