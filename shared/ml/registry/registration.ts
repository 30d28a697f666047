/**
 * Bring your own model: a user registers an ONNX model trained elsewhere (PyTorch, scikit-learn)
 * as a new version of a model of the registry, after checking it loads and matches the declared
 * signature. Predict then scores it by that signature (shared/ml/registry/prediction.ts).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ConflictError, NotFoundError, UnprocessableError, ValidationError } from '../../platform/errors.js';
import { resourceId } from '../../platform/ids.js';
import type { Page } from '../../platform/page.js';
import { OnnxModelLoadError, OnnxSignatureMismatchError } from '../onnx/errors.js';
import { OnnxModelRefusedError } from '../onnx/modelGuard.js';
import type { ModelSignature } from '../onnx/manifest.js';
import type { SignatureScorer } from './byoScorer.js';
import { translated } from './errors.js';
import { byoSignature, modelKeys, withCurrentDetectorName, type ByoLineage, type ByoManifest, type ModelRecord } from './model.js';
import type { ModelArtifacts, ModelRepository } from './modelRepository.js';
import { rowsToMatrix } from './prediction.js';

const base64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The ONNX file as base64 (line breaks allowed); decoded, it must not be empty. */
const onnxBase64 = z
  .string()
  .min(1)
  .transform((s, ctx) => {
    const compact = s.replace(/\s+/g, '');
    if (compact.length % 4 !== 0 || !base64.test(compact)) {
      ctx.addIssue({ code: 'custom', message: 'Must be the ONNX file encoded as base64' });
      return z.NEVER;
    }
    return compact;
  })
  .describe('The .onnx file, base64-encoded (the whole body stays under 6 MB)');

export const byoThreshold = z.union([
  z.number().refine(Number.isFinite, 'must be finite').describe('Raw score at and above which a row is anomalous'),
  z
    .strictObject({
      falseAlarmRate: z.number().gt(0).max(0.5).describe('Share of normal rows allowed to alarm'),
      rows: z.array(z.array(z.number().nullable()).min(1).max(1000)).min(10).max(10_000).describe('Rows of normal data, features in the declared order'),
    })
    .refine((c) => Math.floor(c.rows.length * c.falseAlarmRate) >= 1, { message: 'Send at least 1 / falseAlarmRate rows', path: ['rows'] })
    .describe('Calibration: the threshold is set so that this share of these normal rows alarms'),
]);

export const newModelVersion = z.strictObject({
  id: resourceId.describe('The model; a new id registers version 1, an existing one its next version'),
  name: z.string().trim().min(1).max(200).optional(),
  description: z.string().trim().min(1).max(2000).optional(),
  onnx: onnxBase64,
  signature: byoSignature,
  threshold: byoThreshold,
  source: z.strictObject({ framework: z.enum(['pytorch', 'sklearn', 'other']), notes: z.string().max(2000).optional() }).optional(),
});
export type NewModelVersion = z.infer<typeof newModelVersion>;

export interface RegisterModelDeps {
  models: ModelRepository;
  artifacts: Pick<ModelArtifacts, 'put'>;
  /** Loads and checks the model against the signature (inspectOnnxModel). */
  inspect(bytes: Uint8Array, signature: ModelSignature): Promise<unknown>;
  /** A session run by the signature, to calibrate a threshold on normal rows (createSignatureScorer). */
  createScorer(bytes: Uint8Array, signature: ModelSignature): Promise<SignatureScorer>;
}

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : value,
  );

const signatureOf = (s: NewModelVersion['signature']): ModelSignature => ({
  inputName: s.input.name,
  featureCount: s.input.features.length,
  scoreOutput: s.outputs.score,
  ...(s.outputs.contributions ? { contributionsOutput: s.outputs.contributions } : {}),
});

/** The model's own words, as a 422: a model that does not load, or each way it differs from the signature. */
async function checkedModel(deps: RegisterModelDeps, bytes: Uint8Array, signature: ModelSignature): Promise<void> {
  try {
    await deps.inspect(bytes, signature);
  } catch (error) {
    if (error instanceof OnnxSignatureMismatchError) {
      throw new UnprocessableError(`The model does not match the declared signature: ${error.mismatches.join('; ')}.`, { mismatches: error.mismatches });
    }
    if (error instanceof OnnxModelRefusedError) throw new UnprocessableError(`The model is refused: ${error.reason}.`, { reason: error.reason });
    if (error instanceof OnnxModelLoadError) throw new UnprocessableError(`The model does not load: ${error.message}.`);
    throw error;
  }
}

/** The raw threshold: declared, or the score between the normal rows that may alarm and the rest. */
async function rawThreshold(deps: RegisterModelDeps, bytes: Uint8Array, signature: ModelSignature, declared: NewModelVersion['threshold']): Promise<ByoLineage['threshold']> {
  if (typeof declared === 'number') return { raw: declared };
  const matrix = rowsToMatrix(declared.rows, signature.featureCount);
  const scorer = await translated(() => deps.createScorer(bytes, signature));
  try {
    const { score } = await translated(() => scorer.score(Float32Array.from(matrix.data)));
    if (!score.every(Number.isFinite)) throw new UnprocessableError('The model gives non-finite scores on the calibration rows.');
    const sorted = Float64Array.from(score).sort();
    const alarms = Math.floor(sorted.length * declared.falseAlarmRate);
    const below = sorted[sorted.length - alarms - 1];
    const above = sorted[sorted.length - alarms];
    // Midway between the highest normal score kept quiet and the lowest allowed to alarm.
    return { raw: below === above ? above : (below + above) / 2, calibration: { rows: sorted.length, falseAlarmRate: declared.falseAlarmRate } };
  } finally {
    await scorer.release();
  }
}

/** Every version of a model, newest first: the version items, else the current record alone. */
async function allVersions(models: ModelRepository, tenant: string, id: string): Promise<ModelRecord[]> {
  const versions: ModelRecord[] = [];
  let cursor: string | undefined;
  do {
    const page: Page<ModelRecord> = await models.listVersions(tenant, id, { limit: 100, ...(cursor ? { cursor } : {}) });
    versions.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return versions;
}

const inTraining: readonly ModelRecord['status'][] = ['TRAINING', 'EVALUATING', 'REGISTERING'];

export interface Registration {
  /** true when this request registered the version; false when it is a retry of an earlier one. */
  created: boolean;
  model: ModelRecord;
}

/**
 * Registers a user's ONNX model as a new READY version.
 * Primary course: the base64 decodes; onnxruntime loads the model and its input, outputs and a dry
 * run match the declared signature; the threshold is taken or calibrated; the next version number
 * is claimed (REGISTERING), model.onnx and a BYO manifest.json are written under the version's
 * keys, the version becomes READY and the model's current version.
 * Alternatives: a model that does not load, or does not match, 422 with the loader's words or each
 * mismatch; the id is a model still training, 409; the same bytes and declaration again (a client
 * retry) answers the version already registered (and finishes it if the first attempt stopped
 * half-way); two registrations racing for one version number, 409 for the later (retry it).
 */
export async function registerModelVersion(deps: RegisterModelDeps, tenant: string, input: NewModelVersion, now = new Date()): Promise<Registration> {
  const bytes = new Uint8Array(Buffer.from(input.onnx, 'base64'));
  if (bytes.length === 0) throw new ValidationError('The model is empty.', [{ pointer: 'body.onnx', message: 'Empty model' }]);
  const signature = signatureOf(input.signature);
  const hash = sha256(bytes);
  const declarationSha256 = sha256(canonical({ signature: input.signature, threshold: input.threshold }));

  const current = await deps.models.get(tenant, input.id);
  if (current && current.lineage.source !== 'byo' && inTraining.includes(current.status)) {
    throw new ConflictError(`Model "${input.id}" is ${current.status}; register a version once its training has ended.`);
  }
  // Listed even without a current record: a first registration may have stopped after its claim.
  const versions = await allVersions(deps.models, tenant, input.id);
  const same = versions.find((v) => v.lineage.source === 'byo' && v.lineage.sha256 === hash && v.lineage.declarationSha256 === declarationSha256);
  if (same?.status === 'READY') return { created: false, model: same };

  await checkedModel(deps, bytes, signature);
  const threshold = await rawThreshold(deps, bytes, signature, input.threshold);

  let version = same?.version;
  if (version === undefined) {
    version = Math.max(current?.version ?? 0, ...versions.map((v) => v.version)) + 1;
    // The current record of a model trained here has no version item yet: keep it as its version.
    if (current && !versions.some((v) => v.version === current.version)) {
      await deps.models.createVersion(tenant, current).catch((error: unknown) => {
        if (!(error instanceof ConflictError)) throw error;
      });
    }
  }
  const keys = modelKeys(tenant, input.id, version);
  const source = input.source ?? { framework: 'other' as const };
  const claimed: ModelRecord = {
    id: input.id,
    ...(input.name ? { name: input.name } : current?.name ? { name: current.name } : {}),
    ...(input.description ? { description: input.description } : {}),
    version,
    status: 'REGISTERING',
    jobId: `register-${hash.slice(0, 16)}-${version}`,
    detector: 'external',
    features: input.signature.input.features,
    lineage: { source: 'byo', sha256: hash, bytes: bytes.length, ...source, signature: input.signature, threshold, declarationSha256 },
    createdAt: same?.createdAt ?? now.toISOString(),
    updatedAt: now.toISOString(),
  };
  if (!same) {
    try {
      await deps.models.createVersion(tenant, claimed);
    } catch (error) {
      if (error instanceof ConflictError) throw new ConflictError(`Another registration took version ${version} of model "${input.id}" at the same time; retry.`);
      throw error;
    }
  }
  const manifest: ByoManifest = {
    format: 'telltale.byo-manifest/1',
    detector: 'external',
    features: input.signature.input.features,
    signature,
    ...(input.signature.scoreRange ? { scoreRange: input.signature.scoreRange } : {}),
    threshold: threshold.raw,
    model: { id: input.id, version },
    source: { ...source, sha256: hash },
  };
  await deps.artifacts.put(keys.model, bytes, 'application/octet-stream');
  await deps.artifacts.put(keys.manifest, JSON.stringify(manifest), 'application/json');
  const ready: ModelRecord = { ...claimed, status: 'READY', artifact: { modelKey: keys.model, manifestKey: keys.manifest, bytes: bytes.length, sha256: hash } };
  await deps.models.saveVersion(tenant, ready);
  await deps.models.promote(tenant, ready);
  // A resumed registration never answered its first attempt: it is created now.
  return { created: true, model: ready };
}

/** A model's versions, newest first; 404 for an unknown model (or another tenant's). */
export async function listModelVersions(models: ModelRepository, tenant: string, id: string, page: { limit: number; cursor?: string }): Promise<Page<ModelRecord>> {
  const listed = await models.listVersions(tenant, id, page);
  if (listed.items.length > 0 || page.cursor) return { ...listed, items: listed.items.map(withCurrentDetectorName) };
  const current = await models.get(tenant, id);
  if (!current) throw new NotFoundError(`No model "${id}".`);
  return { items: [withCurrentDetectorName(current)] };
}
