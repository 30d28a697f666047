import { z } from 'zod';
import { functionEnv, readConfig } from '../../platform/config.js';
import { DEFAULT_MAX_CACHE_BYTES, DEFAULT_MAX_SESSION_BYTES } from './modelLoader.js';

/** Where model files are on the function's disk: the models layer, and the /tmp cache of registry versions. */
const modelStorageEnv = z.object({
  MODELS_DIR: z.string().min(1).default('/opt/models'),
  MODELS_CACHE_DIR: z.string().min(1).default('/tmp/models'),
  /** Budget of the /tmp cache of model versions (Lambda's /tmp is 512 MB unless raised). */
  MODELS_CACHE_MAX_BYTES: z.coerce.number().int().positive().default(DEFAULT_MAX_CACHE_BYTES),
  /** Budget of the onnxruntime sessions kept in memory, counted as their model files' bytes. */
  MODEL_SESSIONS_MAX_BYTES: z.coerce.number().int().positive().default(DEFAULT_MAX_SESSION_BYTES),
});

export interface ModelStorageConfig {
  modelsDir: string;
  cacheDir: string;
  maxCacheBytes: number;
  maxSessionBytes: number;
}

export function modelStorageConfig(env = functionEnv()): ModelStorageConfig {
  const config = readConfig(modelStorageEnv, env);
  return { modelsDir: config.MODELS_DIR, cacheDir: config.MODELS_CACHE_DIR, maxCacheBytes: config.MODELS_CACHE_MAX_BYTES, maxSessionBytes: config.MODEL_SESSIONS_MAX_BYTES };
}
