import { GetQueueUrlCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { readingsMessage, type ReadingsMessage } from '../../shared/sensors/readingMessages.js';
import { expectProblem, useLocalCloud, type ApiCall } from './localCloudFixture.js';

const local = useLocalCloud();
/** The ingest queue's URL, as a client outside the functions finds it. */
const ingestQueueUrl = async (sqs: SQSClient) => (await sqs.send(new GetQueueUrlCommand({ QueueName: 'telltale-local-ingest.fifo' }))).QueueUrl!;
const t0 = Date.UTC(2026, 0, 5, 12);
/** What reached the scoring queue, seen on its way into the scorer. */
const scored: ReadingsMessage[] = [];
let ingestMessages = 0;

beforeAll(() => {
  const scorer = local.cloud.functions.get('scoreReadings')!;
  const score = scorer.handler;
  scorer.handler = async (event, context) => {
    for (const r of (event as SQSEvent).Records) scored.push(readingsMessage.parse(JSON.parse(r.body)));
    return score(event, context);
  };
  // Counts what the ingest handler sends by watching the queue's consumer, the writer, from outside.
  const writer = local.cloud.functions.get('storeReadings')!;
  const original = writer.handler;
  writer.handler = async (event, context) => {
    ingestMessages += (event as SQSEvent).Records.length;
    return original(event, context);
  };
});

async function registered(tenant: string, ...ids: string[]): Promise<ApiCall> {
  const call = await local.client(tenant);
  for (const id of ids) {
    const created = await call('/sensors', { method: 'POST', body: JSON.stringify({ id, name: id, type: 'pressure', unit: 'bar', samplingIntervalSeconds: 1 }) });
    expect(created.status).toBe(201);
  }
  return call;
}

const post = (call: ApiCall, body: unknown, headers: Record<string, string> = {}) => call('/readings', { method: 'POST', body: JSON.stringify(body), headers });
const readings = async (call: ApiCall, id: string, query = `from=${t0 - 60_000}&to=${t0 + 3_600_000}`) => {
  const response = await call(`/sensors/${id}/readings?${query}`);
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as { resolution: string; count: number; points: Record<string, unknown>[]; bucketMs?: number };
};

describe('POST /readings -> ingest queue -> storeReadings -> GET /sensors/{id}/readings', () => {
  it('stores the good readings of a row batch, refuses the others one by one, and reads them back', async () => {
    const call = await registered('ingest-a', 'p1', 'p2');
    const response = await post(call, {
      readings: [
        { sensorId: 'p1', timestamp: t0, value: 1.5 },
        { sensorId: 'p2', timestamp: new Date(t0 + 1000).toISOString(), value: 7, quality: 192 },
        { sensorId: 'ghost', timestamp: t0, value: 1 },
        { sensorId: 'p1', timestamp: t0 + 1000, value: null },
        { sensorId: 'p1', timestamp: 'yesterday', value: 1 },
        { sensorId: 'p1', timestamp: Date.now() + 3_600_000, value: 1 },
        { sensorId: 'p1', timestamp: 1_767_225_600, value: 1 },
        { sensorId: 'p1', timestamp: t0 + 2000, value: 2.5 },
      ],
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({
      accepted: 3,
      rejected: [
        { index: 2, reason: 'unknown_sensor', detail: expect.any(String) },
        { index: 3, reason: 'invalid_value', detail: expect.any(String) },
        { index: 4, reason: 'invalid_timestamp', detail: expect.any(String) },
        { index: 5, reason: 'future_timestamp', detail: expect.any(String) },
        { index: 6, reason: 'invalid_timestamp', detail: expect.stringContaining('epoch seconds') },
      ],
    });
    await local.cloud.drain(10_000);
    const p1 = await readings(call, 'p1');
    expect(p1).toMatchObject({ resolution: 'raw', count: 2 });
    expect(p1.points).toEqual([
      { timestamp: new Date(t0).toISOString(), value: 1.5, score: 0, label: 0 },
      { timestamp: new Date(t0 + 2000).toISOString(), value: 2.5, score: 0, label: 0 },
    ]);
    expect((await readings(call, 'p2')).points).toEqual([{ timestamp: new Date(t0 + 1000).toISOString(), value: 7, quality: 192, score: 0, label: 0 }]);
    // Forwarded to the scorer in the agreed shape, sorted by time.
    expect(scored.filter((m) => m.tenant === 'ingest-a' && m.sensorId === 'p1').flatMap((m) => m.readings)).toEqual([
      { timestamp: t0, value: 1.5 },
      { timestamp: t0 + 2000, value: 2.5 },
    ]);
  });

  it('takes the columnar form, downsamples to maxPoints buckets, and answers CSV', async () => {
    const call = await registered('ingest-b', 'c1');
    const n = 1000;
    const response = await post(call, { sensorId: 'c1', timestamps: Array.from({ length: n }, (_, i) => t0 + i * 1000), values: Array.from({ length: n }, (_, i) => i % 10) });
    expect(await response.json()).toEqual({ accepted: n, rejected: [] });
    await local.cloud.drain(10_000);
    const all = await readings(call, 'c1', `from=${t0}&to=${t0 + n * 1000}&maxPoints=${n}`);
    expect(all).toMatchObject({ resolution: 'raw', count: n });
    const buckets = await readings(call, 'c1', `from=${t0}&to=${t0 + n * 1000}&maxPoints=10`);
    expect(buckets).toMatchObject({ resolution: 'buckets', count: n, bucketMs: 100_000 });
    expect(buckets.points).toHaveLength(10);
    expect(buckets.points[0]).toEqual({ timestamp: new Date(t0).toISOString(), min: 0, max: 9, mean: 4.5, count: 100, score: 0, label: 0 });
    const csv = await call(`/sensors/c1/readings?from=${t0}&to=${t0 + 3000}`, { headers: { accept: 'text/csv' } });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(await csv.text()).toBe(`timestamp,value,quality,late,score,label\n${[0, 1, 2].map((i) => `${new Date(t0 + i * 1000).toISOString()},${i},,,0,0`).join('\n')}\n`);
  });

  it('an Idempotency-Key replay answers the first answer and queues nothing; another body with the key is a 422', async () => {
    const call = await registered('ingest-c', 'k1');
    const body = { sensorId: 'k1', timestamps: [t0, t0 + 1000], values: [1, 2] };
    const first = await post(call, body, { 'idempotency-key': 'batch-0001' });
    expect(first.status).toBe(202);
    await local.cloud.drain(10_000);
    const before = ingestMessages;
    const again = await post(call, body, { 'idempotency-key': 'batch-0001' });
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual(await first.json());
    await local.cloud.drain(10_000);
    expect(ingestMessages).toBe(before);
    await expectProblem(await post(call, { ...body, values: [1, 3] }, { 'idempotency-key': 'batch-0001' }), 422);
    // The key is the tenant's: another tenant's same key is a new request.
    const other = await registered('ingest-d', 'k1');
    expect(await (await post(other, body, { 'idempotency-key': 'batch-0001' })).json()).toEqual({ accepted: 2, rejected: [] });
  });

  it('a replayed batch and a message delivered twice store each reading once, late ones marked', async () => {
    const call = await registered('ingest-e', 'r1');
    const body = { sensorId: 'r1', timestamps: [t0 + 5000, t0 + 6000], values: [5, 6] };
    expect((await post(call, body)).status).toBe(202);
    expect((await post(call, body)).status).toBe(202);
    const sqs = new SQSClient({ region: 'us-east-1', endpoint: local.cloud.endpoints.messaging, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const message = JSON.stringify({ tenant: 'ingest-e', sensorId: 'r1', readings: [{ timestamp: t0 + 1000, value: 1 }] });
    // Two deduplication ids: a redelivery, which SQS's deduplication does not catch.
    for (let i = 0; i < 2; i++) {
      await sqs.send(new SendMessageCommand({ QueueUrl: await ingestQueueUrl(sqs), MessageBody: message, MessageGroupId: 'ingest-e#r1', MessageDeduplicationId: `twice-${i}` }));
    }
    await local.cloud.drain(10_000);
    expect((await readings(call, 'r1')).points).toEqual([
      // A late reading is stored and marked, never scored; the others carry the warming detector's 0.
      { timestamp: new Date(t0 + 1000).toISOString(), value: 1, late: true },
      { timestamp: new Date(t0 + 5000).toISOString(), value: 5, score: 0, label: 0 },
      { timestamp: new Date(t0 + 6000).toISOString(), value: 6, score: 0, label: 0 },
    ]);
    // Forwarded whether stored now or found stored (a crash between store and forward must not lose the scoring), marked as stored.
    const forwarded = scored.filter((m) => m.tenant === 'ingest-e').flatMap((m) => m.readings);
    const late = forwarded.filter((r) => r.timestamp === t0 + 1000);
    expect(late.length).toBeGreaterThanOrEqual(1);
    for (const r of late) expect(r).toEqual({ timestamp: t0 + 1000, value: 1, late: true });
  });

  it('a message that is not readings fails alone (partial batch response) and lands in the dead letters', async () => {
    const call = await registered('ingest-j', 'j1');
    const sqs = new SQSClient({ region: 'us-east-1', endpoint: local.cloud.endpoints.messaging, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const good = JSON.stringify({ tenant: 'ingest-j', sensorId: 'j1', readings: [{ timestamp: t0, value: 4.25 }] });
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: await ingestQueueUrl(sqs), Entries: [
          { Id: 'bad', MessageBody: '{"tenant":"ingest-j"}', MessageGroupId: 'ingest-j#bad', MessageDeduplicationId: 'bad' },
          { Id: 'good', MessageBody: good, MessageGroupId: 'ingest-j#j1', MessageDeduplicationId: 'good' },
        ],
      }),
    );
    await local.cloud.drain(10_000);
    expect((await readings(call, 'j1')).points).toEqual([{ timestamp: new Date(t0).toISOString(), value: 4.25, score: 0, label: 0 }]);
    expect(local.cloud.deadLetters('ingest').map((m) => m.body)).toContain('{"tenant":"ingest-j"}');
    expect(local.cloud.deadLetters('ingest').map((m) => m.body)).not.toContain(good);
  });

  it('GET readings is 404 for an unknown sensor and for another tenant', async () => {
    await registered('ingest-f', 'own');
    const other = await local.client('ingest-g');
    await expectProblem(await other('/sensors/own/readings'), 404);
    await expectProblem(await other('/sensors/nope/readings'), 404);
  });

  it('refuses malformed batches with 400 problems, wrong scopes with 403', async () => {
    const call = await registered('ingest-h', 'm1');
    await expectProblem(await post(call, { readings: [] }), 400);
    await expectProblem(await post(call, { readings: Array.from({ length: 1001 }, () => ({ sensorId: 'm1', timestamp: t0, value: 1 })) }), 400);
    await expectProblem(await post(call, { sensorId: 'm1', timestamps: [t0, t0 + 1], values: [1] }), 400);
    await expectProblem(await post(call, { readings: [{ sensorId: 'm1', timestamp: t0, value: 1, extra: true }] }), 400);
    await expectProblem(await post(call, [1, 2, 3]), 400);
    await expectProblem(await post(call, { sensorId: 'm1', timestamps: [t0], values: [1] }, { 'idempotency-key': 'has space' }), 400);
    const reader = await local.client('ingest-h', ['telltale/read']);
    await expectProblem(await post(reader, { sensorId: 'm1', timestamps: [t0], values: [1] }), 403);
  });

  it('answers fuzzed bodies with 2xx or 4xx, never 5xx', async () => {
    const call = await registered('ingest-i', 'f1');
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
    const atoms = [null, true, 0, -1, 1e308, -1e-308, 1.5, '', 'f1', 'x'.repeat(300), t0, String(t0), new Date(t0).toISOString(), '2026-13-45T99:99:99Z', [], {}];
    const value = (depth: number): unknown =>
      depth > 2 || random() < 0.5
        ? pick(atoms)
        : random() < 0.5
          ? Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1))
          : Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, () => [pick(['sensorId', 'timestamp', 'timestamps', 'value', 'values', 'quality', 'qualities', 'readings', 'x']), value(depth + 1)]));
    const shapes = [
      () => ({ readings: Array.from({ length: 1 + Math.floor(random() * 5) }, () => ({ sensorId: pick(['f1', 'ghost', '', '../x']), timestamp: pick(atoms), value: pick(atoms) })) }),
      () => ({ sensorId: pick(['f1', 'ghost', '-bad', 7]), timestamps: value(1), values: value(1) }),
      () => value(0),
    ];
    const statuses: number[] = [];
    for (let i = 0; i < 150; i++) {
      const body = pick(shapes)();
      const raw = random() < 0.1 ? JSON.stringify(body).slice(0, Math.floor(random() * 20)) : JSON.stringify(body) ?? 'null';
      const response = await call('/readings', { method: 'POST', body: raw });
      expect(response.status, `${raw} -> ${await response.clone().text()}`).toBeLessThan(500);
      statuses.push(response.status);
    }
    expect(statuses).toContain(202);
    expect(statuses).toContain(400);
  });
});
