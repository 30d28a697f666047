import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeBaselineModel } from '../../../../layers/build.js';
import { fitDetector, scoreDetector, type DetectorKind } from '../../../../shared/ml/multivariate/detector.js';
import { createGaussian, createRng } from '../../../../shared/ml/multivariate/rng.js';
import { exportDetectorToOnnx } from '../../../../shared/ml/onnx/export.js';
import { buildManifest } from '../../../../shared/ml/onnx/manifest.js';
import { createOnnxScorer } from '../../../../shared/ml/onnx/scorer.js';
import type { ModelRecord } from '../../../../shared/ml/registry/model.js';
import { scoreWithOnnx } from '../../../../shared/ml/registry/onnxScoring.js';
import { claimsFor, httpEvent, lambdaContext } from '../../../fixtures/lambda.js';
import { plantRows, SENSORS } from '../multivariate/synthetic.js';

const gauss = createGaussian(createRng(21));
/** Float32-representable rows, wider than training so scores reach the calibrated tail. */
const randomRows = (rows: number) => ({ rows, cols: SENSORS, data: Float64Array.from({ length: rows * SENSORS }, () => Math.fround(2.5 * gauss())) });
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b));

describe.each<DetectorKind>(['pca', 'autoencoder', 'iforest', 'mset'])('predict through ONNX (%s) equals scoreDetector', (kind) => {
  it('scores, labels and contributions agree to 1e-5, with input and score windows and differenced slow features', async () => {
    const detector = fitDetector(plantRows(500, 4), { detector: kind, inputWindow: 4, scoreWindow: 3, slowFeatures: { lag: 5, maxRoughness: 2 }, autoencoder: { epochs: 15 }, iforest: { trees: 30 } });
    const rows = randomRows(400);
    const expected = scoreDetector(detector, rows);
    const scorer = await createOnnxScorer(exportDetectorToOnnx(detector));
    const got = await scoreWithOnnx(scorer, buildManifest(detector), rows);

    got.scores.forEach((s, i) => expect(close(s, expected.scores[i]), `row ${i}: ${s} vs ${expected.scores[i]}`).toBe(true));
    got.contributions!.forEach((c, i) => expect(close(c, expected.contributions[i]), `value ${i}`).toBe(true));
    const threshold = detector.calibration.rawThreshold;
    got.labels.forEach((l, i) => {
      if (Math.abs(expected.raw[i] - threshold) > 1e-5 * Math.max(1, threshold)) expect(l).toBe(expected.labels[i]);
    });
    expect(expected.labels.some((l) => l === 1)).toBe(true);
    await scorer.release();
  });
});

// The handler reads its bindings at load: set them, then import it.
const dir = mkdtempSync(path.join(os.tmpdir(), 'predict-'));
const dynamo = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
let handler: (event: unknown, context: unknown) => Promise<APIGatewayProxyStructuredResultV2>;

const detector = fitDetector(plantRows(400, 8), { detector: 'pca', featureNames: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'] });
const onnxBytes = exportDetectorToOnnx(detector);
const readyModel = (over: Partial<ModelRecord> = {}): ModelRecord => ({
  id: 'pump-model',
  version: 1,
  status: 'READY',
  jobId: 'train-1',
  detector: 'pca',
  features: detector.featureNames,
  lineage: { datasetId: 'plant-1', processedKey: 'datasets/acme/plant-1/processed/data.csv', columns: {}, parameters: {} },
  artifact: { modelKey: 'models/acme/pump-model/1/model.onnx', manifestKey: 'models/acme/pump-model/1/manifest.json', bytes: onnxBytes.length, sha256: 'x' },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...over,
});
const s3Body = (bytes: Uint8Array) => ({ Body: { transformToByteArray: async () => bytes } }) as never;

async function post(body: unknown, scopes = ['telltale/read'], tenant = 'acme') {
  const response = await handler(httpEvent({ method: 'POST', path: '/api/v1/ml/predict', body: JSON.stringify(body), claims: claimsFor(tenant, ...scopes) }), lambdaContext);
  return { status: response.statusCode, body: JSON.parse(response.body ?? '{}') as Record<string, unknown> & { results: { score: number; label: number; contributions: number[] }[] } };
}

describe('POST /api/v1/ml/predict', () => {
  beforeAll(async () => {
    writeBaselineModel('pca', path.join(dir, 'layer'));
    Object.assign(process.env, { TABLE_MODELS: 'models-table', BUCKET_MODELS: 'models-bucket', MODELS_DIR: path.join(dir, 'layer'), MODELS_CACHE_DIR: path.join(dir, 'cache') });
    ({ handler } = (await import('../../../../functions/ml/predict.js')) as unknown as { handler: typeof handler });
  });
  afterEach(() => {
    dynamo.reset();
    s3.reset();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('scores rows with a baseline model from the layer, without touching DynamoDB or S3', async () => {
    const { status, body } = await post({ modelId: 'baseline-pca', rows: [[0, 0, 0, 0, 0, 0, 0, 0], [9, -9, 9, -9, 9, -9, 9, -9]] });
    expect(status).toBe(200);
    expect(body.model).toEqual({ id: 'baseline-pca', version: 1, detector: 'pca', source: 'layer' });
    expect(body.results).toHaveLength(2);
    expect(body.results[1].score).toBeGreaterThan(body.results[0].score);
    expect(body.results[1].label).toBe(1);
    expect(body.results[1].contributions.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(dynamo.calls()).toHaveLength(0);
  });

  it('loads a registry model from S3 once per container, then answers from its session', async () => {
    dynamo.on(GetCommand).resolves({ Item: { pk: 'T#acme', sk: 'MODEL#pump-model', ...readyModel() } });
    s3.on(GetObjectCommand).resolves(s3Body(onnxBytes));
    const rows = Array.from(randomRows(5).data).reduce<number[][]>((acc, v, i) => (i % 6 === 0 ? [...acc, [v]] : (acc.at(-1)!.push(v), acc)), []);

    const first = await post({ modelId: 'pump-model', rows, features: detector.featureNames });
    const second = await post({ modelId: 'pump-model', version: 1, rows });

    expect(first.status).toBe(200);
    expect(second.body.results).toEqual(first.body.results);
    expect(first.body.model).toEqual({ id: 'pump-model', version: 1, detector: 'pca', source: 'registry' });
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(1);
    expect(s3.commandCalls(GetObjectCommand)[0].args[0].input).toMatchObject({ Bucket: 'models-bucket', Key: 'models/acme/pump-model/1/model.onnx' });
    // The version was given and its session is cached: no lookup at all.
    expect(dynamo.commandCalls(GetCommand)).toHaveLength(1);
    const expected = scoreDetector(detector, { rows: 5, cols: 6, data: Float64Array.from(rows.flat()) });
    first.body.results.forEach((r, i) => expect(close(r.score, expected.scores[i])).toBe(true));
  });

  it('answers 404 for an unknown model, and looks only in the caller\'s partition (another tenant\'s model is unknown)', async () => {
    dynamo.on(GetCommand).resolves({});
    const { status, body } = await post({ modelId: 'their-model', rows: [[1, 2, 3, 4, 5, 6]] }, ['telltale/read'], 'other');
    expect(status).toBe(404);
    expect(body.type).toBe('urn:telltale:problem:not-found');
    expect(dynamo.commandCalls(GetCommand)[0].args[0].input.Key).toEqual({ pk: 'T#other', sk: 'MODEL#their-model' });
  });

  it('answers 409 for a model still training and 422 for one whose artifact does not load', async () => {
    dynamo.on(GetCommand).resolvesOnce({ Item: readyModel({ id: 'busy', status: 'TRAINING', artifact: undefined }) });
    expect((await post({ modelId: 'busy', rows: [[1, 2, 3, 4, 5, 6]] })).status).toBe(409);

    dynamo.on(GetCommand).resolves({ Item: readyModel({ id: 'broken', artifact: { ...readyModel().artifact!, modelKey: 'models/acme/broken/1/model.onnx' } }) });
    s3.on(GetObjectCommand).resolves(s3Body(new TextEncoder().encode('this is not an onnx model')));
    const broken = await post({ modelId: 'broken', rows: [[1, 2, 3, 4, 5, 6]] });
    expect(broken.status).toBe(422);
    expect(String(broken.body.detail)).toMatch(/cannot be used/);
  });

  it('refuses wrong feature counts, a wrong feature order, nulls and too many rows with 400, naming the place', async () => {
    const wrongCount = await post({ modelId: 'baseline-pca', rows: [[1, 2, 3]] });
    expect(wrongCount.status).toBe(400);
    expect(wrongCount.body.errors).toEqual([expect.objectContaining({ pointer: 'body.rows.0' })]);

    const order = await post({ modelId: 'baseline-pca', rows: [[1, 2, 3, 4, 5, 6, 7, 8]], features: ['x2', 'x1', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8'] });
    expect(order.status).toBe(400);
    expect(String(order.body.detail)).toMatch(/wrong order/);

    const nulls = await post({ modelId: 'baseline-pca', rows: [[1, 2, 3, 4, 5, 6, 7, 8], [1, 2, null, 4, 5, 6, 7, 8]] });
    expect(nulls.status).toBe(400);
    expect(nulls.body.errors).toEqual([expect.objectContaining({ pointer: 'body.rows.1.2' })]);

    const tooMany = await post({ modelId: 'baseline-pca', rows: Array.from({ length: 10_001 }, () => [1, 2, 3, 4, 5, 6, 7, 8]) });
    expect(tooMany.status).toBe(400);
    expect((await post({ modelId: 'baseline-pca', rows: [] })).status).toBe(400);
    expect((await post({ modelId: 'baseline-pca', rows: [['a', 2, 3, 4, 5, 6, 7, 8]] })).status).toBe(400);
  });

  it('needs a token with the read scope', async () => {
    expect((await post({ modelId: 'baseline-pca', rows: [[1]] }, ['telltale/ingest'])).status).toBe(403);
    const anonymous = await handler(httpEvent({ method: 'POST', path: '/api/v1/ml/predict', body: '{}' }), lambdaContext);
    expect(anonymous.statusCode).toBe(401);
  });
});
