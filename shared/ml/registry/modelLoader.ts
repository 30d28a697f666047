/**
 * Where predict gets its models: baseline models from the models layer (`<modelsDir>/<id>.onnx`
 * and `<id>.manifest.json`), registry models from the models bucket through a `/tmp` file cache
 * keyed by version. Each model version gets one onnxruntime session per container, created on
 * first use and reused: the cache is the loader's Map, so create the loader at module scope.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConflictError, NotFoundError, UnprocessableError } from '../../platform/errors.js';
import { createOnnxScorer, type OnnxScorer } from '../onnx/scorer.js';
import type { ModelManifest } from '../onnx/manifest.js';
import { translated } from './errors.js';
import { isBaselineModel, storedManifestSchema } from './model.js';
import type { ModelArtifacts, ModelRepository } from './modelRepository.js';
import type { LoadedModel, ModelLoader } from './prediction.js';

export interface ModelLoaderOptions {
  models: Pick<ModelRepository, 'get'>;
  artifacts: Pick<ModelArtifacts, 'getBytes'>;
  /** The models layer's folder (MODELS_DIR, /opt/models on Lambda). */
  modelsDir: string;
  /** Where downloaded versions are kept between invocations (/tmp/models). */
  cacheDir: string;
  createScorer?: (bytes: Uint8Array) => Promise<OnnxScorer>;
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
    const scorer = await translated(() => createScorer(bytes));
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

  const fromRegistry = async (tenant: string, id: string, version: number, modelKey: string): Promise<LoadedModel> => {
    const file = path.join(options.cacheDir, tenant, id, String(version), 'model.onnx');
    let bytes = await readIfPresent(file);
    if (!bytes) {
      bytes = await options.artifacts.getBytes(modelKey);
      if (!bytes) throw new UnprocessableError(`The artifact of model "${id}" version ${version} is missing.`);
      await mkdir(path.dirname(file), { recursive: true });
      // Write then rename: a concurrent reader never sees half a file.
      const partial = `${file}.${process.pid}.${Date.now()}.part`;
      await writeFile(partial, bytes);
      await rename(partial, file);
    }
    return { id, version, source: 'registry', ...(await session(bytes, undefined)) };
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
      const record = await options.models.get(tenant, id);
      if (!record) throw new NotFoundError(`No model "${id}".`);
      if (version !== undefined && version !== record.version) throw new NotFoundError(`Model "${id}" has no version ${version}.`);
      if (record.status === 'FAILED') throw new UnprocessableError(`Model "${id}" failed to train (${record.failure?.step ?? 'unknown step'}: ${record.failure?.cause ?? 'no cause recorded'}).`);
      if (record.status !== 'READY' || !record.artifact) throw new ConflictError(`Model "${id}" is ${record.status}; predict once it is READY.`);
      const modelKey = record.artifact.modelKey;
      return cachedOrLoad(`${tenant}/${id}@${record.version}`, () => fromRegistry(tenant, id, record.version, modelKey));
    },
  };
}
