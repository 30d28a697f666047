import { z } from 'zod';
import { ValidationError } from '../../platform/errors.js';
import { resourceId } from '../../platform/ids.js';
import { deploymentRoles } from '../../mlops/deployment.js';
import type { DeploymentRepository } from '../../mlops/deploymentRepository.js';
import { routeToDeployment, type RoutedModel } from '../../mlops/deployments.js';
import { canonicalDetectorName } from '../detectors.js';
import type { Matrix } from '../multivariate/matrix.js';
import type { ModelManifest } from '../onnx/manifest.js';
import { translated } from './errors.js';
import type { ByoManifest } from './model.js';
import { reportedScore, scoreByoWithOnnx, scoreWithOnnx, type RawScorer } from './onnxScoring.js';
import { PREDICT_POINTER_TTL_MS } from './predictionCache.js';

const pointerSeconds = PREDICT_POINTER_TTL_MS / 1_000;

export const MAX_PREDICT_ROWS = 10_000;
/** Values per request; keeps the answer under Lambda's 6 MB response limit. */
export const MAX_PREDICT_VALUES = 200_000;

export const predictRequest = z
  .strictObject({
    modelId: resourceId.optional().describe('A model of the registry, or a baseline model of the layer (baseline-pca, baseline-autoencoder); give modelId or group'),
    version: z.number().int().min(1).optional().describe(`With modelId. Default: the model's current version (a new current version is used within ${pointerSeconds} s)`),
    group: resourceId.optional().describe(`A sensor group (asset) with a deployment: its champion scores the rows, or its challenger for its traffic share (a deployment change is used within ${pointerSeconds} s); give modelId or group`),
    routingKey: z.string().min(1).max(256).optional().describe('With group: requests with the same key go to the same model (e.g. the asset and the hour); random routing without one'),
    rows: z
      .array(z.array(z.number().nullable()).min(1).max(1000))
      .min(1)
      .max(MAX_PREDICT_ROWS)
      .describe('Feature rows in time order, features in the model\'s order; windows start afresh with each request'),
    features: z.array(z.string()).max(1000).optional().describe('The names of the columns of rows; checked against the model\'s features and order'),
  })
  .superRefine((r, ctx) => {
    if ((r.modelId === undefined) === (r.group === undefined)) ctx.addIssue({ code: 'custom', path: ['modelId'], message: 'Give exactly one of modelId and group' });
    if (r.group !== undefined && r.version !== undefined) ctx.addIssue({ code: 'custom', path: ['version'], message: 'A group\'s deployment pins the version; give version only with modelId' });
    if (r.modelId !== undefined && r.routingKey !== undefined) ctx.addIssue({ code: 'custom', path: ['routingKey'], message: 'routingKey routes between a group\'s models; give it only with group' });
  });
export type PredictRequest = z.infer<typeof predictRequest>;

export const predictResponse = z.object({
  model: z.object({ id: z.string(), version: z.number().int(), detector: z.string(), source: z.enum(['registry', 'layer']) }),
  deployment: z
    .object({ group: z.string(), revision: z.number().int(), role: z.enum(deploymentRoles) })
    .optional()
    .describe('With group: the deployment revision that routed the request, and whether its champion or its challenger answered'),
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

/** Scores rows with a loaded model, ours or brought by its owner, and says the threshold on the score's scale. */
export async function scoreLoadedModel(model: LoadedModel, matrix: Matrix) {
  const manifest = model.manifest;
  const scored = await translated(() => (isByo(manifest) ? scoreByoWithOnnx(model.scorer, manifest, matrix) : scoreWithOnnx(model.scorer, manifest, matrix)));
  const threshold = isByo(manifest) ? reportedScore(manifest.threshold, manifest.scoreRange) : manifest.calibration.threshold;
  return { scored, threshold };
}

/** The model a request names, or the one its group's deployment routes it to. */
async function requestedModel(tenant: string, request: PredictRequest, deployments: Pick<DeploymentRepository, 'get'> | undefined): Promise<{ modelId: string; version?: number; deployment?: RoutedModel['deployment'] }> {
  if (request.group === undefined) {
    if (request.modelId === undefined) throw new ValidationError('Give exactly one of modelId and group.', [{ pointer: 'body.modelId', message: 'Give exactly one of modelId and group' }]);
    return { modelId: request.modelId, version: request.version };
  }
  if (!deployments) throw new Error('predict by group needs the deployments port');
  const routed = await routeToDeployment(deployments, tenant, request.group, request.routingKey);
  return { ...routed.model, deployment: routed.deployment };
}

/**
 * Scores feature rows with a model.
 * Primary course: the model is the one named (`modelId`), or the champion or challenger of a
 * sensor group's deployment (`group`, routed by `routingKey`; the answer names the revision and
 * the role). It (registry or layer) is loaded or taken from this container's cache, the rows are
 * checked against its features, scored through onnxruntime exactly as the TypeScript detector
 * scores, and each row gets score, label and contributions. A model brought by its owner is run
 * by its declared signature: its score (mapped by the declared range), labelled by the declared
 * threshold, contributions from its declared output.
 * Alternatives: unknown or another tenant's model, or a group without deployment, 404; not READY
 * 409; unloadable 422; bad rows 400.
 */
export async function predict(loader: ModelLoader, tenant: string, request: PredictRequest, deployments?: Pick<DeploymentRepository, 'get'>): Promise<PredictResponse> {
  const chosen = await requestedModel(tenant, request, deployments);
  const model = await loader.load(tenant, chosen.modelId, chosen.version);
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
    model: { id: model.id, version: model.version, detector: canonicalDetectorName(manifest.detector), source: model.source },
    ...(chosen.deployment ? { deployment: chosen.deployment } : {}),
    features,
    threshold,
    results,
  };
}
