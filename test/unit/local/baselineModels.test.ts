import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { baselineModelsDir } from '../../../local/baselineModels.js';

const scratch = await mkdtemp(path.join(os.tmpdir(), 'telltale-baselines-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

describe('baseline models of the local cloud', () => {
  it('trains them once with the layer build code when the layer was not built, then reuses them', async () => {
    const options = { layerDir: path.join(scratch, 'no-layer-build'), cacheDir: path.join(scratch, 'baselines') };
    const dir = await baselineModelsDir(options);
    expect(dir).toBe(options.cacheDir);
    expect((await readdir(dir)).sort()).toEqual(['baseline-autoencoder.manifest.json', 'baseline-autoencoder.onnx', 'baseline-pca.manifest.json', 'baseline-pca.onnx']);
    const built = (await stat(path.join(dir, 'baseline-pca.onnx'))).mtimeMs;
    expect(await baselineModelsDir(options)).toBe(dir);
    expect((await stat(path.join(dir, 'baseline-pca.onnx'))).mtimeMs).toBe(built);
    // No staging folder left behind.
    expect(await readdir(scratch)).toEqual(['baselines']);
  });

  it('serves the layer build when it holds every baseline', async () => {
    const cacheDir = path.join(scratch, 'baselines');
    expect(await baselineModelsDir({ layerDir: cacheDir, cacheDir: path.join(scratch, 'unused') })).toBe(cacheDir);
  });
});
