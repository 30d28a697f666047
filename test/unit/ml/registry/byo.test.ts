import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fitDetector } from '../../../../shared/ml/multivariate/detector.js';
import { exportDetectorToOnnx } from '../../../../shared/ml/onnx/export.js';
import { GraphBuilder, encodeModel, tensorValue } from '../../../../shared/ml/onnx/graph.js';
import { inspectOnnxModel } from '../../../../shared/ml/onnx/inspect.js';
import { createOnnxScorer } from '../../../../shared/ml/onnx/scorer.js';
import { createSignatureScorer } from '../../../../shared/ml/registry/byoScorer.js';
import type { ModelRecord } from '../../../../shared/ml/registry/model.js';
import { registerModelVersion } from '../../../../shared/ml/registry/registration.js';
import { ConflictError } from '../../../../shared/platform/errors.js';
import { claimsFor, httpEvent, lambdaContext } from '../../../fixtures/lambda.js';
import { plantRows } from '../multivariate/synthetic.js';
import { hostile, hostileSignature } from '../onnx/hostileModels.js';
import { memoryArtifacts, memoryModels } from './fakes.js';

type Handler = (event: unknown, context: unknown) => Promise<APIGatewayProxyStructuredResultV2>;
type Json = Record<string, unknown> & { results: { score: number; label: number; contributions: number[] | null }[]; items: ModelRecord[] };

/** A stand-in for a model trained elsewhere: score = the sum of the inputs, contributions = |inputs|. */
function summingModel(inputName = 'features', features = 3, metadata: Record<string, string> = {}): Uint8Array {
  const g = new GraphBuilder();
  const axes = g.int64s('axes', [1]);
  g.node({ op: 'ReduceSum', inputs: [inputName, axes], outputs: ['anomaly_score'], ints: { keepdims: 0 } });
  g.node({ op: 'Abs', inputs: [inputName], outputs: ['attribution'] });
  return encodeModel(g, {
    graphName: 'foreign',
    inputs: [tensorValue(inputName, 'float', ['batch', features])],
    outputs: [tensorValue('anomaly_score', 'float', ['batch']), tensorValue('attribution', 'float', ['batch', features])],
    metadata,
  });
}
const sumSignature = { input: { name: 'features', features: ['a', 'b', 'c'] }, outputs: { score: 'anomaly_score', contributions: 'attribution' } };
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

// A tiny PCA exported by our own exporter: to the registry it is just a user's ONNX model.
const pca = exportDetectorToOnnx(fitDetector(plantRows(200, 3), { detector: 'pca' }));
const pcaSignature = { input: { name: 'input', features: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'] }, outputs: { score: 'score' } };

// DynamoDB and S3 as small stateful mocks, so both handlers run on the real adapters.
const dynamo = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
const table = new Map<string, Record<string, unknown>>();
const objects = new Map<string, Uint8Array>();
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

function installMocks(): void {
  dynamo.on(PutCommand).callsFake((input: { Item: Record<string, unknown>; ConditionExpression?: string; ExpressionAttributeValues?: Record<string, unknown> }) => {
    const key = `${String(input.Item.pk)}|${String(input.Item.sk)}`;
    const existing = table.get(key);
    if (existing && input.ConditionExpression === 'attribute_not_exists(pk)') throw conditionFailed();
    if (existing && input.ConditionExpression === 'attribute_not_exists(pk) OR #version < :version' && !((existing.version as number) < (input.ExpressionAttributeValues![':version'] as number))) throw conditionFailed();
    table.set(key, structuredClone(input.Item));
    return {};
  });
  dynamo.on(GetCommand).callsFake((input: { Key: { pk: string; sk: string } }) => ({ Item: structuredClone(table.get(`${input.Key.pk}|${input.Key.sk}`)) }));
  dynamo.on(QueryCommand).callsFake((input: { ExpressionAttributeValues: Record<string, string> }) => ({
    Items: [...table.values()].filter((i) => i.pk === input.ExpressionAttributeValues[':p'] && String(i.sk).startsWith(input.ExpressionAttributeValues[':v'])).sort((a, b) => String(b.sk).localeCompare(String(a.sk))),
  }));
  s3.on(PutObjectCommand).callsFake((input: { Key: string; Body: Uint8Array | string }) => {
    objects.set(input.Key, typeof input.Body === 'string' ? new TextEncoder().encode(input.Body) : input.Body);
    return {};
  });
  s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const body = objects.get(input.Key);
    if (!body) throw new NoSuchKey({ message: 'missing', $metadata: {} });
    return { Body: { transformToByteArray: async () => body } };
  });
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'byo-registry-'));
let register: Handler;
let versions: Handler;
let predictHandler: Handler;

async function call(handler: Handler, options: Parameters<typeof httpEvent>[0]): Promise<{ status: number; body: Json }> {
  const response = await handler(httpEvent(options), lambdaContext);
  return { status: response.statusCode!, body: JSON.parse(response.body || '{}') as Json };
}
const registerAs = (body: unknown, tenant = 'acme', scopes = ['telltale/models']) =>
  call(register, { method: 'POST', path: '/api/v1/mlops/models', body: typeof body === 'string' ? body : JSON.stringify(body), claims: claimsFor(tenant, ...scopes) });
const listVersions = (id: string, tenant = 'acme') => call(versions, { path: `/api/v1/mlops/models/${id}/versions`, pathParameters: { id }, claims: claimsFor(tenant, 'telltale/read') });
const predictAs = (body: unknown, tenant = 'acme') => call(predictHandler, { method: 'POST', path: '/api/v1/ml/predict', body: JSON.stringify(body), claims: claimsFor(tenant, 'telltale/read') });

describe('POST /api/v1/mlops/models (bring your own ONNX model), then predict with it', () => {
  beforeAll(async () => {
    Object.assign(process.env, { TABLE_MODELS: 'models-table', BUCKET_MODELS: 'models-bucket', MODELS_DIR: path.join(dir, 'layer'), MODELS_CACHE_DIR: path.join(dir, 'cache') });
    ({ handler: register } = (await import('../../../../functions/mlops/registerModel.js')) as unknown as { handler: Handler });
    ({ handler: versions } = (await import('../../../../functions/mlops/listModelVersions.js')) as unknown as { handler: Handler });
    ({ handler: predictHandler } = (await import('../../../../functions/ml/predict.js')) as unknown as { handler: Handler });
  });
  beforeEach(() => {
    dynamo.reset();
    s3.reset();
    table.clear();
    objects.clear();
    installMocks();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('registers a model matching its signature as READY version 1, and predict scores it by the declared threshold and range', async () => {
    const bytes = summingModel();
    const { status, body } = await registerAs({
      id: 'summer',
      name: 'Sum of features',
      onnx: b64(bytes),
      signature: { ...sumSignature, scoreRange: { min: 0, max: 12, scale: 'minmax' } },
      threshold: 5,
      source: { framework: 'pytorch', notes: 'torch.onnx.export' },
    });
    expect(status).toBe(201);
    expect(body).toMatchObject({ id: 'summer', version: 1, status: 'READY', detector: 'external', features: ['a', 'b', 'c'] });
    expect(body.lineage).toMatchObject({ source: 'byo', framework: 'pytorch', bytes: bytes.length, threshold: { raw: 5 } });
    const sha = (body.lineage as { sha256: string }).sha256;
    expect(sha).toMatch(/^[0-9a-f]{64}$/);
    expect(body.artifact).toMatchObject({ modelKey: 'models/acme/summer/1/model.onnx', sha256: sha });
    expect(Buffer.from(objects.get('models/acme/summer/1/model.onnx')!).equals(Buffer.from(bytes))).toBe(true);

    const predicted = await predictAs({ modelId: 'summer', rows: [[1, 2, 3], [0.5, -1, 0.5], [10, 10, 10]], features: ['a', 'b', 'c'] });
    expect(predicted.status).toBe(200);
    expect(predicted.body.model).toEqual({ id: 'summer', version: 1, detector: 'external', source: 'registry' });
    // Raw 6 -> 6/12; raw 0 -> 0; raw 30 -> clamped to 1. Labels by the raw threshold 5, reported on the same scale (5/12).
    expect(predicted.body.threshold).toBeCloseTo(5 / 12, 9);
    expect(predicted.body.results.map((r) => r.score)).toEqual([0.5, 0, 1]);
    expect(predicted.body.results.map((r) => r.label)).toEqual([1, 0, 1]);
    expect(predicted.body.results[0].contributions).toEqual([1 / 6, 2 / 6, 3 / 6].map((x) => expect.closeTo(x, 6)));
    expect(predicted.body.results[1].contributions).toEqual([0.25, 0.5, 0.25].map((x) => expect.closeTo(x, 6)));
  });

  it('registers another model under the same id as version 2, lists both, and predicts with either', async () => {
    await registerAs({ id: 'pump', onnx: b64(summingModel()), signature: sumSignature, threshold: 5 });
    const second = await registerAs({ id: 'pump', onnx: b64(summingModel('features', 3, { retrained: '2026-02' })), signature: { ...sumSignature, outputs: { score: 'anomaly_score' } }, threshold: 100 });
    expect(second.status).toBe(201);
    expect(second.body.version).toBe(2);
    expect((second.body.lineage as { sha256: string }).sha256).not.toBe(((await listVersions('pump')).body.items[1].lineage as { sha256: string }).sha256);
    const listed = await listVersions('pump');
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((v) => [v.version, v.status])).toEqual([[2, 'READY'], [1, 'READY']]);

    const latest = await predictAs({ modelId: 'pump', rows: [[3, 3, 3]] });
    expect(latest.body.model).toMatchObject({ version: 2 });
    // Version 2: raw score as returned (no range), threshold 100, no contributions declared.
    expect(latest.body.results).toEqual([{ score: 9, label: 0, contributions: null }]);
    const first = await predictAs({ modelId: 'pump', version: 1, rows: [[3, 3, 3]] });
    expect(first.body.model).toMatchObject({ version: 1 });
    expect(first.body.results[0]).toMatchObject({ score: 9, label: 1 });
    expect((await predictAs({ modelId: 'pump', version: 3, rows: [[3, 3, 3]] })).status).toBe(404);
  });

  it('scores a PCA exported by Telltale as a plain ONNX model: the raw score output, ignoring the manifest inside the file', async () => {
    const { status } = await registerAs({ id: 'pca-byo', onnx: b64(pca), signature: pcaSignature, threshold: 0.5, source: { framework: 'sklearn' } });
    expect(status).toBe(201);
    const rows = [[0, 0, 0, 0, 0, 0], [4, -4, 4, -4, 4, -4]];
    const predicted = await predictAs({ modelId: 'pca-byo', rows });
    const direct = await createOnnxScorer(pca);
    const raw = (await direct.score(Float32Array.from(rows.flat()))).score;
    await direct.release();
    expect(predicted.body.results.map((r) => r.score)).toEqual(Array.from(raw).map((x) => expect.closeTo(x, 9)));
    expect(predicted.body.results.map((r) => r.label)).toEqual(Array.from(raw).map((x) => (x >= 0.5 ? 1 : 0)));
  });

  it('answers a retried registration (same bytes, same declaration) with the existing version and 200', async () => {
    const request = { id: 'retry-me', onnx: b64(summingModel()), signature: sumSignature, threshold: 5 };
    const first = await registerAs(request);
    const putsAfterFirst = s3.commandCalls(PutObjectCommand).length;
    const again = await registerAs(request);
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(putsAfterFirst);
    expect((await listVersions('retry-me')).body.items).toHaveLength(1);
    // A different threshold for the same bytes is a different version.
    expect((await registerAs({ ...request, threshold: 7 })).body.version).toBe(2);
  });

  it('calibrates the threshold on normal rows when given a false-alarm rate instead of a number', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => [i + 1, 0, 0]);
    const { status, body } = await registerAs({ id: 'calibrated', onnx: b64(summingModel()), signature: sumSignature, threshold: { falseAlarmRate: 0.1, rows } });
    expect(status).toBe(201);
    // Two of the twenty rows (scores 19 and 20) may alarm: the threshold lies between 18 and 19.
    expect(body.lineage).toMatchObject({ threshold: { raw: 18.5, calibration: { rows: 20, falseAlarmRate: 0.1 } } });
    const predicted = await predictAs({ modelId: 'calibrated', rows });
    expect(predicted.body.results.filter((r) => r.label === 1)).toHaveLength(2);
  });

  it('refuses a model whose input does not match the signature with 422, listing each mismatch', async () => {
    const wrongCount = await registerAs({ id: 'bad', onnx: b64(summingModel('features', 5)), signature: sumSignature, threshold: 1 });
    expect(wrongCount.status).toBe(422);
    expect(wrongCount.body.type).toBe('urn:telltale:problem:unprocessable');
    expect(wrongCount.body.mismatches).toEqual([expect.stringMatching(/takes 5 features, 3 declared/)]);

    const wrongNames = await registerAs({ id: 'bad', onnx: b64(summingModel('x')), signature: { ...sumSignature, outputs: { score: 'score' } }, threshold: 1 });
    expect(wrongNames.status).toBe(422);
    expect(wrongNames.body.mismatches).toEqual([expect.stringMatching(/no input named "features"/), expect.stringMatching(/no output named "score"/)]);
    expect(String(wrongNames.body.detail)).toMatch(/does not match the declared signature/);
    expect(table.size).toBe(0);
    expect(objects.size).toBe(0);
  });

  it('refuses bytes that do not load with 422 and the loader\'s words, and a body that is not base64 with 400', async () => {
    const garbage = await registerAs({ id: 'bad', onnx: b64(new TextEncoder().encode('this is not an onnx model')), signature: sumSignature, threshold: 1 });
    expect(garbage.status).toBe(422);
    expect(String(garbage.body.detail)).toMatch(/^The model does not load: .*cannot load the model/);

    const truncated = await registerAs({ id: 'bad', onnx: b64(pca.subarray(0, pca.length / 2)), signature: pcaSignature, threshold: 1 });
    expect(truncated.status).toBe(422);

    const notBase64 = await registerAs({ id: 'bad', onnx: 'not base64 at all!', signature: sumSignature, threshold: 1 });
    expect(notBase64.status).toBe(400);
    expect(notBase64.body.errors).toEqual([expect.objectContaining({ pointer: 'body.onnx' })]);
    expect(table.size).toBe(0);
  });

  it('refuses with 422 and the reason a model that reads external data or declares sizes that exhaust memory, and stores nothing', async () => {
    const attacks = {
      initializer: hostile.initializer('.telltale/keys/signing-key.jwk.json'),
      constant: hostile.constantAttribute('.telltale/keys/signing-key.jwk.json'),
      subgraph: hostile.nestedSubgraph('.telltale/keys/signing-key.jwk.json'),
      huge: hostile.hugeTensor(),
      nodes: hostile.tooManyNodes(),
    };
    for (const [name, bytes] of Object.entries(attacks)) {
      const refused = await registerAs({ id: `attack-${name}`, onnx: b64(bytes), signature: hostileSignature, threshold: 1 });
      expect(refused.status, name).toBe(422);
      expect(String(refused.body.detail), name).toMatch(/^The model is refused: /);
      expect(String(refused.body.reason), name).toMatch(name === 'huge' ? /declares 40000000000 bytes/ : name === 'nodes' ? /more than 50000 nodes/ : /reads external data/);
    }
    expect(table.size).toBe(0);
    expect(objects.size).toBe(0);
  });

  it('never loads such a model in predict either, though one was stored before the check existed (422)', async () => {
    await registerAs({ id: 'swapped', onnx: b64(summingModel()), signature: sumSignature, threshold: 5 });
    objects.set('models/acme/swapped/1/model.onnx', hostile.subgraph('.telltale/keys/signing-key.jwk.json'));
    const predicted = await predictAs({ modelId: 'swapped', rows: [[1, 2, 3]] });
    expect(predicted.status).toBe(422);
    expect(String(predicted.body.detail)).toMatch(/the model is refused: .*reads external data/);
  });

  it('refuses malformed, oversized and unauthorised requests', async () => {
    const tooLarge = await registerAs({ id: 'big', onnx: 'A'.repeat(6 * 1024 * 1024), signature: sumSignature, threshold: 1 });
    expect(tooLarge.status).toBe(413);
    const missing = await registerAs({ id: 'x', onnx: b64(summingModel()) });
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ pointer: 'body.signature' }), expect.objectContaining({ pointer: 'body.threshold' })]));
    const duplicated = await registerAs({ id: 'x', onnx: b64(summingModel()), signature: { ...sumSignature, input: { name: 'features', features: ['a', 'a', 'c'] } }, threshold: 1 });
    expect(duplicated.status).toBe(400);
    const badRange = await registerAs({ id: 'x', onnx: b64(summingModel()), signature: { ...sumSignature, scoreRange: { min: 1, max: 0 } }, threshold: 1 });
    expect(badRange.status).toBe(400);
    expect((await registerAs({ id: '../x', onnx: b64(summingModel()), signature: sumSignature, threshold: 1 })).status).toBe(400);
    expect((await registerAs('{"id":', 'acme')).status).toBe(400);
    expect((await registerAs({ id: 'x', onnx: b64(summingModel()), signature: sumSignature, threshold: 1 }, 'acme', ['telltale/read'])).status).toBe(403);
    expect((await call(register, { method: 'POST', path: '/api/v1/mlops/models', body: '{}' })).status).toBe(401);
  });

  it('keeps tenants apart: another tenant neither lists nor predicts with the model, and its own id is its own model', async () => {
    await registerAs({ id: 'shared-name', onnx: b64(summingModel()), signature: sumSignature, threshold: 5 });
    const theirs = await listVersions('shared-name', 'other');
    expect(theirs.status).toBe(404);
    expect(theirs.body.type).toBe('urn:telltale:problem:not-found');
    expect((await predictAs({ modelId: 'shared-name', rows: [[1, 2, 3]] }, 'other')).status).toBe(404);
    expect((await predictAs({ modelId: 'shared-name', version: 1, rows: [[1, 2, 3]] }, 'other')).status).toBe(404);
    const own = await registerAs({ id: 'shared-name', onnx: b64(pca), signature: pcaSignature, threshold: 1 }, 'other');
    expect(own.status).toBe(201);
    expect(own.body.version).toBe(1);
    expect(own.body.artifact).toMatchObject({ modelKey: 'models/other/shared-name/1/model.onnx' });
    expect((await listVersions('shared-name')).body.items.map((v) => v.features)).toEqual([['a', 'b', 'c']]);
  });
});

describe('registerModelVersion on a model trained here', () => {
  const deps = () => ({ models: memoryModels(), artifacts: memoryArtifacts(), inspect: inspectOnnxModel, createScorer: createSignatureScorer });
  const trained = (status: ModelRecord['status']): ModelRecord => ({
    id: 'plant',
    version: 1,
    status,
    jobId: 'train-1',
    detector: 'pca',
    lineage: { datasetId: 'plant-1', processedKey: 'datasets/acme/plant-1/processed/data.csv', columns: {}, parameters: {} },
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  });
  const input = { id: 'plant', onnx: b64(summingModel()), signature: { input: { name: 'features', features: ['a', 'b', 'c'] }, outputs: { score: 'anomaly_score' } }, threshold: 5 };

  it('refuses a new version while the model trains (409), and keeps the trained version as version 1 once it is READY', async () => {
    const d = deps();
    await d.models.create('acme', trained('TRAINING'));
    await expect(registerModelVersion(d, 'acme', input)).rejects.toBeInstanceOf(ConflictError);

    const ready = deps();
    await ready.models.create('acme', trained('READY'));
    const { model } = await registerModelVersion(ready, 'acme', input);
    expect(model.version).toBe(2);
    expect((await ready.models.listVersions('acme', 'plant', { limit: 10 })).items.map((v) => [v.version, v.detector])).toEqual([[2, 'external'], [1, 'pca']]);
    expect((await ready.models.get('acme', 'plant'))?.version).toBe(2);
  });

  it('finishes a registration that stopped after claiming its version, when the client retries', async () => {
    const d = deps();
    const failingOnce = { ...d.models, saveVersion: async () => Promise.reject(new Error('network')) };
    await expect(registerModelVersion({ ...d, models: failingOnce }, 'acme', { ...input, id: 'half' })).rejects.toThrow('network');
    expect((await d.models.getVersion('acme', 'half', 1))?.status).toBe('REGISTERING');
    const retried = await registerModelVersion(d, 'acme', { ...input, id: 'half' });
    expect(retried).toMatchObject({ created: true, model: { version: 1, status: 'READY' } });
    expect((await d.models.listVersions('acme', 'half', { limit: 10 })).items).toHaveLength(1);
  });
});
