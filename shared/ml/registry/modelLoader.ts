/**
 * Where predict gets its models: baseline models from the models layer (`<modelsDir>/<id>.onnx`
 * and `<id>.manifest.json`), registry models from the models bucket through a `/tmp` file cache
 * keyed by version (BYO versions with their manifest.json, which holds the declared signature). Each model version gets one onnxruntime session per container, created on
 * first use and reused: the cache is the loader's, so create the loader at module scope.
 * Both caches are bounded by bytes and evict the least recently used version, so a tenant cycling
 * through versions cannot fill a shared container's memory or /tmp. An evicted session is released;
 * Lambda runs one request at a time per container, so no request is still scoring with it.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConflictError, NotFoundError, UnprocessableError } from '../../platform/errors.js';
import { createOnnxScorer, type OnnxScorer } from '../onnx/scorer.js';
import type { ModelManifest } from '../onnx/manifest.js';
import { createSignatureScorer } from './byoScorer.js';
import { translated } from './errors.js';
import { byoManifestSchema, isBaselineModel, storedManifestSchema, type ByoManifest, type ModelRecord } from './model.js';
import { ByteLru } from './byteLru.js';
import type { ModelArtifacts, ModelRepository } from './modelRepository.js';
import type { LoadedModel, ModelLoader } from './prediction.js';

export interface ModelLoaderOptions {
  models: Pick<ModelRepository, 'get' | 'getVersion'>;
  artifacts: Pick<ModelArtifacts, 'getBytes'>;
  /** The models layer's folder (MODELS_DIR, /opt/models on Lambda). */
  modelsDir: string;
  /** Where downloaded versions are kept between invocations (/tmp/models). */
  cacheDir: string;
  /** Budget of the sessions kept in memory, counted as the bytes of their model files. */
  maxSessionBytes?: number;
  /** Budget of the /tmp cache. */
  maxCacheBytes?: number;
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

export const DEFAULT_MAX_SESSION_BYTES = 128 * 2 ** 20;
export const DEFAULT_MAX_CACHE_BYTES = 256 * 2 ** 20;

interface SessionEntry {
  model: Promise<LoadedModel>;
  /** Set once loaded; until then the entry is pinned (never evicted). */
  release?: () => Promise<void>;
}

interface Loaded {
  model: LoadedModel;
  /** Bytes of the model file: what the session is charged against the budget. */
  bytes: number;
  release(): Promise<void>;
}

export function modelLoader(options: ModelLoaderOptions): ModelLoader & { readonly cached: number; readonly cachedBytes: number; readonly diskBytes: number } {
  const createScorer = options.createScorer ?? createOnnxScorer;
  const sessions = new ByteLru<SessionEntry>(
    options.maxSessionBytes ?? DEFAULT_MAX_SESSION_BYTES,
    (_key, entry) => void entry.release?.().catch(() => undefined),
    (entry) => !entry.release,
  );
  const disk = new ByteLru<string>(options.maxCacheBytes ?? DEFAULT_MAX_CACHE_BYTES, (file) => void rm(file, { force: true }).catch(() => undefined));

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

  const fromLayer = async (id: string, version: number | undefined): Promise<Loaded> => {
    const manifestBytes = await readIfPresent(path.join(options.modelsDir, `${id}.manifest.json`));
    const bytes = await readIfPresent(path.join(options.modelsDir, `${id}.onnx`));
    if (!manifestBytes || !bytes) throw new NotFoundError(`No model "${id}" (the baseline models are not installed in this function).`);
    const sidecar = await translated(() => storedManifestSchema.parse(JSON.parse(Buffer.from(manifestBytes).toString('utf8'))));
    if (version !== undefined && version !== sidecar.model.version) throw new NotFoundError(`Model "${id}" has no version ${version} (it is at ${sidecar.model.version}).`);
    const { scorer, manifest } = await session(bytes, sidecar);
    return { model: { id, version: sidecar.model.version, source: 'layer', scorer, manifest }, bytes: bytes.length, release: () => scorer.release() };
  };

  /** An object of a registry version: from the /tmp cache, else from the bucket (then cached). */
  const versionObject = async (tenant: string, record: ModelRecord, name: string, key: string): Promise<Uint8Array> => {
    const file = path.join(options.cacheDir, tenant, record.id, String(record.version), name);
    const cached = await readIfPresent(file);
    if (cached) {
      disk.set(file, file, cached.length);
      return cached;
    }
    const bytes = await options.artifacts.getBytes(key);
    if (!bytes) throw new UnprocessableError(`The artifact of model "${record.id}" version ${record.version} is missing.`);
    await cacheFile(file, bytes);
    disk.set(file, file, bytes.length);
    return bytes;
  };

  const fromRegistry = async (tenant: string, record: ModelRecord, artifact: NonNullable<ModelRecord['artifact']>): Promise<Loaded> => {
    const bytes = await versionObject(tenant, record, 'model.onnx', artifact.modelKey);
    const loaded = { id: record.id, version: record.version, source: 'registry' as const };
    if (record.lineage.source !== 'byo') {
      const { scorer, manifest } = await session(bytes, undefined);
      return { model: { ...loaded, scorer, manifest }, bytes: bytes.length, release: () => scorer.release() };
    }
    // A BYO model is run by the signature declared at registration, whatever metadata its file carries.
    const manifestBytes = await versionObject(tenant, record, 'manifest.json', artifact.manifestKey);
    const manifest: ByoManifest = await translated(() => byoManifestSchema.parse(JSON.parse(Buffer.from(manifestBytes).toString('utf8'))));
    const scorer = await translated(() => createSignatureScorer(bytes, manifest.signature));
    return { model: { ...loaded, manifest, scorer }, bytes: bytes.length, release: () => scorer.release() };
  };

  const cachedOrLoad = (key: string, load: () => Promise<Loaded>): Promise<LoadedModel> => {
    const hit = sessions.get(key);
    if (hit) return hit.model;
    const entry: SessionEntry = {
      model: load().then(
        (loaded) => {
          entry.release = loaded.release;
          // Charged once its size is known; this may evict older sessions.
          if (sessions.peek(key) === entry) sessions.set(key, entry, loaded.bytes);
          return loaded.model;
        },
        (error: unknown) => {
          // A failed load is not cached: the next request tries again.
          if (sessions.peek(key) === entry) sessions.delete(key);
          throw error;
        },
      ),
    };
    sessions.set(key, entry, 0);
    return entry.model;
  };

  return {
    get cached() {
      return sessions.size;
    },
    get cachedBytes() {
      return sessions.bytes;
    },
    get diskBytes() {
      return disk.bytes;
    },
    async load(tenant, id, version) {
      if (isBaselineModel(id)) return cachedOrLoad(`layer/${id}@${version ?? 'current'}`, () => fromLayer(id, version));
      // Versions are immutable, and the key holds the tenant: a cached session needs no lookup.
      const hit = version !== undefined ? sessions.get(`${tenant}/${id}@${version}`) : undefined;
      if (hit) return hit.model;
      const record = version === undefined ? await options.models.get(tenant, id) : await options.models.getVersion(tenant, id, version);
      if (!record) throw new NotFoundError(version === undefined ? `No model "${id}".` : `No model "${id}" with a version ${version}.`);
      if (record.status === 'FAILED') throw new UnprocessableError(`Model "${id}" failed to train (${record.failure?.step ?? 'unknown step'}: ${record.failure?.cause ?? 'no cause recorded'}).`);
      if (record.status !== 'READY' || !record.artifact) throw new ConflictError(`Model "${id}" is ${record.status}; predict once it is READY.`);
      const artifact = record.artifact;
      return cachedOrLoad(`${tenant}/${id}@${record.version}`, () => fromRegistry(tenant, record, artifact));
    },
  };
}
