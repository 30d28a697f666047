import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../bin/cli.js';
import { buildOpenApiDocument } from '../../../shared/http/openapi.js';
import { detectRequest } from '../../../shared/ml/api/contract.js';
import { createGaussian, createRng } from '../../../shared/ml/multivariate/rng.js';
import { trainModelRoute } from '../../../shared/ml/registry/contract.js';
import { newTraining, type ModelRecord } from '../../../shared/ml/registry/model.js';
import { getModel, listModels, startTraining, trainingRunOf } from '../../../shared/ml/registry/training.js';
import { trainingRun } from '../../../shared/ml/registry/trainingPipeline.js';
import { memoryDatasets, memoryModels, readyDataset, recordingStarter } from './registry/fakes.js';

const matrix = { timestamps: ['2026-01-01T00:00:00Z'], features: ['a', 'b'], rows: [[1, 2]] };

describe('one name for the isolation forest: isolation_forest, with iforest a deprecated alias', () => {
  it('POST /ml/train takes isolation_forest, and iforest as its alias; the record says isolation_forest', async () => {
    expect(newTraining.parse({ datasetId: 'plant-1', detector: 'isolation_forest' }).detector).toBe('isolation_forest');
    expect(newTraining.parse({ datasetId: 'plant-1', detector: 'iforest' }).detector).toBe('isolation_forest');
    expect(newTraining.safeParse({ datasetId: 'plant-1', detector: 'forest' }).success).toBe(false);

    const models = memoryModels();
    const starter = recordingStarter();
    const model = await startTraining({ models, datasets: memoryDatasets([readyDataset()]), starter }, 'acme', newTraining.parse({ modelId: 'm', datasetId: 'plant-1', detector: 'iforest' }));
    expect(model.detector).toBe('isolation_forest');
    expect((await models.get('acme', 'm'))?.detector).toBe('isolation_forest');
    expect(trainingRunOf('acme', model).detector).toBe('isolation_forest');
  });

  it('POST /ml/detect takes both names and answers with isolation_forest', () => {
    expect(detectRequest.parse({ matrix, detector: 'iforest' }).detector).toBe('isolation_forest');
    expect(detectRequest.parse({ matrix, detector: 'isolation_forest' }).detector).toBe('isolation_forest');
    // The alias is for the multivariate family only.
    expect(detectRequest.safeParse({ series: [{ timestamp: '2026-01-01T00:00:00Z', value: 1 }], detector: 'iforest' }).success).toBe(false);
  });

  it('records and runs stored before the rename answer and train as isolation_forest', async () => {
    const models = memoryModels();
    const old = { id: 'old', version: 1, status: 'READY', jobId: 'j', detector: 'iforest', lineage: { datasetId: 'd', processedKey: 'k', columns: {}, parameters: {} }, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' };
    await models.create('acme', old as unknown as ModelRecord);
    expect((await getModel(models, 'acme', 'old')).detector).toBe('isolation_forest');
    expect((await listModels(models, 'acme', { limit: 10 })).items[0].detector).toBe('isolation_forest');
    expect(trainingRun.parse({ tenant: 'acme', modelId: 'old', version: 1, jobId: 'j', datasetId: 'd', processedKey: 'k', columns: {}, detector: 'iforest', parameters: {}, split: {} }).detector).toBe('isolation_forest');
  });

  it('the OpenAPI document lists both names for POST /ml/train and says which is deprecated', () => {
    const document = buildOpenApiDocument([trainModelRoute], { version: 'test' }) as unknown as {
      paths: Record<string, { post: { requestBody: { content: Record<string, { schema: { properties: Record<string, { enum?: string[]; description?: string }> } }> } } }>;
    };
    const detector = document.paths['/api/v1/ml/train'].post.requestBody.content['application/json'].schema.properties.detector;
    expect(detector.enum).toEqual(['pca', 'isolation_forest', 'autoencoder', 'mset', 'iforest']);
    expect(detector.description).toMatch(/`iforest` is a deprecated alias of `isolation_forest`/);
  });
});

describe('telltale train and detect take the same names', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'detector-names-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const g = createGaussian(createRng(5));
  const csv = path.join(dir, 'plant.csv');
  writeFileSync(csv, ['time,a,b', ...Array.from({ length: 60 }, (_, i) => `${i},${g().toFixed(4)},${g().toFixed(4)}`)].join('\n'));

  it.each(['isolation_forest', 'iforest'])('--detector %s trains and detects with the isolation forest', async (name) => {
    const model = path.join(dir, `${name}.onnx`);
    expect(await main(['train', '--input', csv, '--detector', name, '--output', model])).toBe(0);
    expect(readFileSync(model).length).toBeGreaterThan(100);
    expect(await main(['detect', '--input', csv, '--detector', name, '--output', path.join(dir, `${name}.csv`)])).toBe(0);
  });
});
