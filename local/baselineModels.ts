import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { BASELINE_VERSION, baselineKinds, layerModelsDir, writeBaselineModels } from '../layers/build.js';
import { repositoryRoot } from './paths.js';

/** Where the local cloud keeps the baselines it trained itself (git-ignored, like the layer build). */
export const localBaselineDir = path.join(repositoryRoot, 'layers/build', `local-baseline-models-v${BASELINE_VERSION}`);

const complete = (dir: string) => baselineKinds.every((kind) => ['onnx', 'manifest.json'].every((ext) => existsSync(path.join(dir, `baseline-${kind}.${ext}`))));

/**
 * The folder of baseline models the local cloud gives its functions as MODELS_DIR, as the models
 * layer's `/opt/models` on AWS: the layer build's, when `layers/build.ts` ran; else one trained
 * here by the same code on first start (a few seconds) and kept, per BASELINE_VERSION.
 */
export async function baselineModelsDir({ layerDir = layerModelsDir, cacheDir = localBaselineDir } = {}): Promise<string> {
  if (complete(layerDir)) return layerDir;
  if (complete(cacheDir)) return cacheDir;
  await mkdir(path.dirname(cacheDir), { recursive: true });
  // Written aside and renamed, so local clouds starting together never read a half-written model.
  const staging = await mkdtemp(`${cacheDir}.tmp-`);
  try {
    writeBaselineModels(staging);
    await rm(cacheDir, { recursive: true, force: true });
    await rename(staging, cacheDir).catch(async (error: NodeJS.ErrnoException) => {
      if (!complete(cacheDir)) throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return cacheDir;
}
