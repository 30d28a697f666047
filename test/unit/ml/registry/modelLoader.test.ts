import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fitDetector } from '../../../../shared/ml/multivariate/detector.js';
import { exportDetectorToOnnx } from '../../../../shared/ml/onnx/export.js';
import type { ModelManifest } from '../../../../shared/ml/onnx/manifest.js';
import { createOnnxScorer } from '../../../../shared/ml/onnx/scorer.js';
import { ByteLru } from '../../../../shared/ml/registry/byteLru.js';
import { modelKeys, type ModelRecord } from '../../../../shared/ml/registry/model.js';
import { modelLoader } from '../../../../shared/ml/registry/modelLoader.js';
import { modelStorageConfig } from '../../../../shared/ml/registry/modelStorage.js';
import { plantRows } from '../multivariate/synthetic.js';
import { memoryArtifacts, memoryModels } from './fakes.js';

const onnx = exportDetectorToOnnx(fitDetector(plantRows(200, 3), { detector: 'pca' }));
const dir = mkdtempSync(path.join(os.tmpdir(), 'model-loader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const version = (v: number): ModelRecord => ({
  id: 'pump',
  version: v,
  status: 'READY',
  jobId: `train-${v}`,
  detector: 'pca',
  lineage: { datasetId: 'plant', processedKey: 'datasets/acme/plant/processed/data.csv', columns: {}, parameters: {} },
  artifact: { modelKey: modelKeys('acme', 'pump', v).model, manifestKey: modelKeys('acme', 'pump', v).manifest, bytes: onnx.length, sha256: 'x' },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

/** A registry holding versions 1..n of one model, and a loader with room for `room` versions in memory and on disk. */
async function setup(n: number, room: { sessions: number; disk: number }) {
  const models = memoryModels();
  const artifacts = memoryArtifacts();
  for (let v = 1; v <= n; v++) {
    await models.createVersion('acme', version(v));
    await artifacts.put(modelKeys('acme', 'pump', v).model, onnx, 'application/octet-stream');
  }
  const created: number[] = [];
  const released: number[] = [];
  let next = 0;
  const cacheDir = path.join(dir, String(Math.random()));
  const loader = modelLoader({
    models,
    artifacts,
    modelsDir: path.join(dir, 'no-layer'),
    cacheDir,
    maxSessionBytes: room.sessions * onnx.length,
    maxCacheBytes: room.disk * onnx.length,
    // The real onnxruntime session, counted: which sessions were created and which released.
    createScorer: async (bytes: Uint8Array, manifest?: ModelManifest) => {
      const scorer = await createOnnxScorer(bytes, manifest);
      const id = next++;
      created.push(id);
      return { ...scorer, score: scorer.score, release: async () => (released.push(id), scorer.release()) };
    },
  });
  const cachedFile = (v: number) => existsSync(path.join(cacheDir, 'acme', 'pump', String(v), 'model.onnx'));
  return { loader, created, released, cachedFile };
}

describe('the model loader\'s caches', () => {
  it('keeps at most its byte budget of sessions, evicting the least recently used and releasing it', async () => {
    const { loader, created, released } = await setup(4, { sessions: 2, disk: 10 });
    await loader.load('acme', 'pump', 1);
    await loader.load('acme', 'pump', 2);
    await loader.load('acme', 'pump', 1); // 1 is now the most recent
    expect(created).toHaveLength(2);
    await loader.load('acme', 'pump', 3);
    expect(loader.cached).toBe(2);
    expect(loader.cachedBytes).toBe(2 * onnx.length);
    expect(released).toEqual([1]); // version 2's session, the least recently used
    await loader.load('acme', 'pump', 1);
    expect(created).toHaveLength(3); // still cached
    await loader.load('acme', 'pump', 2); // evicted: loaded again, evicting 3
    expect(created).toHaveLength(4);
    expect(released).toEqual([1, 2]);
    // The scorer of a reloaded version works.
    const model = await loader.load('acme', 'pump', 2);
    expect((await model.scorer.score(new Float32Array(6))).score).toHaveLength(1);
  });

  it('keeps at most its byte budget of model files under /tmp, deleting the least recently used', async () => {
    const { loader, cachedFile } = await setup(3, { sessions: 1, disk: 2 });
    await loader.load('acme', 'pump', 1);
    await loader.load('acme', 'pump', 2);
    expect([cachedFile(1), cachedFile(2)]).toEqual([true, true]);
    await loader.load('acme', 'pump', 3);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the delete is not awaited by the load
    expect([cachedFile(1), cachedFile(2), cachedFile(3)]).toEqual([false, true, true]);
    expect(loader.diskBytes).toBe(2 * onnx.length);
    // An evicted version downloads again and works.
    expect((await loader.load('acme', 'pump', 1)).version).toBe(1);
    expect(cachedFile(1)).toBe(true);
  });

  it('takes its budgets from the environment, with defaults', () => {
    expect(modelStorageConfig({})).toMatchObject({ maxCacheBytes: 256 * 2 ** 20, maxSessionBytes: 128 * 2 ** 20 });
    expect(modelStorageConfig({ MODELS_CACHE_MAX_BYTES: '1000', MODEL_SESSIONS_MAX_BYTES: '2000' })).toMatchObject({ maxCacheBytes: 1000, maxSessionBytes: 2000 });
    expect(() => modelStorageConfig({ MODELS_CACHE_MAX_BYTES: '-1' })).toThrow(/Invalid configuration: MODELS_CACHE_MAX_BYTES/);
  });
});

describe('ByteLru', () => {
  it('never evicts the newest entry nor a pinned one', () => {
    const evicted: string[] = [];
    const lru = new ByteLru<{ pinned: boolean }>(10, (key) => evicted.push(key), (v) => v.pinned);
    lru.set('loading', { pinned: true }, 0);
    lru.set('a', { pinned: false }, 6);
    lru.set('big', { pinned: false }, 20);
    expect(evicted).toEqual(['a']);
    expect(lru.peek('big')).toBeDefined();
    expect(lru.peek('loading')).toBeDefined();
    expect(lru.bytes).toBe(20);
  });
});
