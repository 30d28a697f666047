/**
 * Where predict gets its models: baseline models from the models layer (`<modelsDir>/<id>.onnx`
 * and `<id>.manifest.json`), registry models from the models bucket through a `/tmp` file cache
 * keyed by version (BYO versions with their manifest.json, which holds the declared signature). Each model version gets one onnxruntime session per container, created on
 * first use and reused: the cache is the loader's Map, so create the loader at module scope.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConflictError, NotFoundError, UnprocessableError } from '../../platform/errors.js';
import { createOnnxScorer, type OnnxScorer } from '../onnx/scorer.js';
import type { ModelManifest } from '../onnx/manifest.js';
import { createSignatureScorer } from './byoScorer.js';
import { translated } from './errors.js';
import { byoManifestSchema, isBaselineModel, storedManifestSchema, type ByoManifest, type ModelRecord } from './model.js';
import type { ModelArtifacts, ModelRepository } from './modelRepository.js';
import type { LoadedModel, ModelLoader } from './prediction.js';

export interface ModelLoaderOptions {
  models: Pick<ModelRepository, 'get' | 'getVersion'>;
  artifacts: Pick<ModelArtifacts, 'getBytes'>;
  /** The models layer's folder (MODELS_DIR, /opt/models on Lambda). */
  modelsDir: string;
  /** Where downloaded versions are kept between invocations (/tmp/models). */
  cacheDir: string;
  createScorer?: (bytes: Uint8Array, manifest?: ModelManifest) => Promise<OnnxScorer>;
}

/** Caches an object of a version under /tmp: write then rename, so a concurrent reader never sees half a file. */
async function cacheFile(file: string, bytes: Uint8Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.${Date.now()}.part`;
  await writeFile(partial, bytes);
  await rename(partial, file);
}

async function readIfPresent(file: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export function modelLoader(options: ModelLoaderOptions): ModelLoader & { readonly cached: number } {
  const createScorer = options.createScorer ?? createOnnxScorer;
  const sessions = new Map<string, Promise<LoadedModel>>();

  const session = async (bytes: Uint8Array, sidecar: ModelManifest | undefined): Promise<{ scorer: OnnxScorer; manifest: ModelManifest }> => {
    const scorer = await translated(() => createScorer(bytes, sidecar));
    const manifest = scorer.manifest ?? sidecar;
    if (!manifest) {
      await scorer.release();
      throw new UnprocessableError('The model carries no Telltale manifest (features, calibration); it cannot be scored here.');
    }
    if (manifest.features.length !== scorer.featureCount) {
      await scorer.release();
      throw new UnprocessableError(`The model takes ${scorer.featureCount} features but its manifest names ${manifest.features.length}.`);
    }
    return { scorer, manifest };
  };

  const fromLayer = async (id: string, version: number | undefined): Promise<LoadedModel> => {
    const manifestBytes = await readIfPresent(path.join(options.modelsDir, `${id}.manifest.json`));
    const bytes = await readIfPresent(path.join(options.modelsDir, `${id}.onnx`));
    if (!manifestBytes || !bytes) throw new NotFoundError(`No model "${id}" (the baseline models are not installed in this function).`);
    const sidecar = await translated(() => storedManifestSchema.parse(JSON.parse(Buffer.from(manifestBytes).toString('utf8'))));
    if (version !== undefined && version !== sidecar.model.version) throw new NotFoundError(`Model "${id}" has no version ${version} (it is at ${sidecar.model.version}).`);
    return { id, version: sidecar.model.version, source: 'layer', ...(await session(bytes, sidecar)) };
  };

  /** An object of a registry version: from the /tmp cache, else from the bucket (then cached). */
  const versionObject = async (tenant: string, record: ModelRecord, name: string, key: string): Promise<Uint8Array> => {
    const file = path.join(options.cacheDir, tenant, record.id, String(record.version), name);
    const cached = await readIfPresent(file);
    if (cached) return cached;
    const bytes = await options.artifacts.getBytes(key);
    if (!bytes) throw new UnprocessableError(`The artifact of model "${record.id}" version ${record.version} is missing.`);
    await cacheFile(file, bytes);
    return bytes;
  };

  const fromRegistry = async (tenant: string, record: ModelRecord, artifact: NonNullable<ModelRecord['artifact']>): Promise<LoadedModel> => {
    const bytes = await versionObject(tenant, record, 'model.onnx', artifact.modelKey);
    const loaded = { id: record.id, version: record.version, source: 'registry' as const };
    if (record.lineage.source !== 'byo') return { ...loaded, ...(await session(bytes, undefined)) };
    // A BYO model is run by the signature declared at registration, whatever metadata its file carries.
    const manifestBytes = await versionObject(tenant, record, 'manifest.json', artifact.manifestKey);
    const manifest: ByoManifest = await translated(() => byoManifestSchema.parse(JSON.parse(Buffer.from(manifestBytes).toString('utf8'))));
    const scorer = await translated(() => createSignatureScorer(bytes, manifest.signature));
    return { ...loaded, manifest, scorer };
  };

  const cachedOrLoad = (key: string, load: () => Promise<LoadedModel>): Promise<LoadedModel> => {
    let entry = sessions.get(key);
    if (!entry) {
      entry = load();
      sessions.set(key, entry);
      // A failed load is not cached: the next request tries again.
      entry.catch(() => sessions.delete(key));
    }
    return entry;
  };

  return {
    get cached() {
      return sessions.size;
    },
    async load(tenant, id, version) {
      if (isBaselineModel(id)) return cachedOrLoad(`layer/${id}@${version ?? 'current'}`, () => fromLayer(id, version));
      // Versions are immutable, and the key holds the tenant: a cached session needs no lookup.
      const hit = version !== undefined ? sessions.get(`${tenant}/${id}@${version}`) : undefined;
      if (hit) return hit;
      const record = version === undefined ? await options.models.get(tenant, id) : await options.models.getVersion(tenant, id, version);
      if (!record) throw new NotFoundError(version === undefined ? `No model "${id}".` : `No model "${id}" with a version ${version}.`);
      if (record.status === 'FAILED') throw new UnprocessableError(`Model "${id}" failed to train (${record.failure?.step ?? 'unknown step'}: ${record.failure?.cause ?? 'no cause recorded'}).`);
      if (record.status !== 'READY' || !record.artifact) throw new ConflictError(`Model "${id}" is ${record.status}; predict once it is READY.`);
      const artifact = record.artifact;
      return cachedOrLoad(`${tenant}/${id}@${record.version}`, () => fromRegistry(tenant, record, artifact));
    },
  };
}
