import { z } from 'zod';
import { readConfig } from '../../platform/config.js';

/** Where model files are on the function's disk: the models layer, and the /tmp cache of registry versions. */
const modelStorageEnv = z.object({
  MODELS_DIR: z.string().min(1).default('/opt/models'),
  MODELS_CACHE_DIR: z.string().min(1).default('/tmp/models'),
});

export function modelStorageConfig(env: NodeJS.ProcessEnv = process.env): { modelsDir: string; cacheDir: string } {
  const config = readConfig(modelStorageEnv, env);
  return { modelsDir: config.MODELS_DIR, cacheDir: config.MODELS_CACHE_DIR };
}
