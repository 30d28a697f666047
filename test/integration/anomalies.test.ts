import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { md5Hex } from '../../local/queueDispatcher.js';
import type { EventBridgeEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { lambdaContext, type LocalFunction } from '../../local/lambdaRuntime.js';
import { dynamoReadingsStore } from '../../shared/aws/dynamoReadingsStore.js';
import { dynamoEpisodeStore } from '../../shared/aws/episodeRepository.js';
import { dynamoScorerStateStore } from '../../shared/aws/scorerStateRepository.js';
import { StreamingDetector } from '../../shared/ml/streaming/detector.js';
import { createGaussian, createRng } from '../../shared/ml/multivariate/rng.js';
import { bucketSpanMs } from '../../shared/sensors/readingBucket.js';
import { episodeSnapshot } from '../../shared/sensors/episode.js';
import type { ReadingsMessage } from '../../shared/sensors/readingMessages.js';
import { streamingModel } from '../../shared/sensors/scoring.js';
import { expectProblem, useLocalCloud, type ApiCall } from './localCloudFixture.js';

const local = useLocalCloud();
const t0 = Date.parse('2026-03-01T00:00:00Z');
const sensor = { id: 'pump-7-vibration', name: 'Pump 7 vibration', type: 'vibration', unit: 'mm/s', group: 'pump-7', samplingIntervalSeconds: 1 };

/** 600 readings a second apart: noise around 2, and a jump of 40 sigmas over [520, 560). */
const noise = createGaussian(createRng(3));
const readings: ReadingsMessage['readings'] = Array.from({ length: 600 }, (_, i) => ({ timestamp: t0 + i * 1000, value: 2 + 0.1 * noise() + (i >= 520 && i < 560 ? 4 : 0) }));

let opened: EventBridgeEvent<string, Record<string, unknown>>[];
let closed: EventBridgeEvent<string, Record<string, unknown>>[];
let sqs: SQSClient;
let acme: ApiCall;

async function sendToScoring(message: ReadingsMessage): Promise<void> {
  const body = JSON.stringify(message);
  // The scoring queue is FIFO: one group per sensor, as the writer sends.
  await sqs.send(new SendMessageCommand({ QueueUrl: local.cloud.names.queue('scoring'), MessageBody: body, MessageGroupId: `${message.tenant}#${message.sensorId}`, MessageDeduplicationId: md5Hex(body) }));
}

beforeAll(async () => {
  opened = [];
  closed = [];
  const listener: LocalFunction = {
    spec: { name: 'anomalyListener', memoryMb: 128, timeoutSeconds: 5 },
    handler: async (event: never) => {
      const e = event as EventBridgeEvent<string, Record<string, unknown>>;
      (e['detail-type'] === 'anomaly.opened' ? opened : closed).push(e);
    },
  };
  local.cloud.bus.addRule({ name: 'anomalyEventsTest', detailTypes: ['anomaly.opened', 'anomaly.closed'], fn: listener });
  sqs = new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, endpoint: local.cloud.endpoints.messaging });
  acme = await local.client('acme');
  expect((await acme('/sensors', { method: 'POST', body: JSON.stringify(sensor) })).status).toBe(201);
  // The writer's part (another function): the readings are stored before they reach the scorer.
  const store = dynamoReadingsStore({ tableName: local.cloud.names.table('readings'), spanOf: async () => bucketSpanMs(1), retentionDays: 0 });
  await store.put('acme', sensor.id, readings);
});

describe('streaming scoring on the local cloud: scoring queue -> episodes -> anomaly.opened', () => {
  it('an anomaly opens one episode and anomaly.opened reaches the bus once, even when the message is delivered twice', async () => {
    const messages = [0, 200, 400].map((from) => ({ tenant: 'acme', sensorId: sensor.id, readings: readings.slice(from, from + 200), correlationId: 'sim-1' }));
    for (const m of messages) await sendToScoring(m);
    await local.cloud.drain(20_000);
    await sendToScoring(messages[2]);
    await local.cloud.drain(20_000);

    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({ source: 'telltale', 'detail-type': 'anomaly.opened', detail: { tenant: 'acme', sensorId: sensor.id, group: 'pump-7', correlationId: 'sim-1', eventId: `${opened[0].detail.episodeId as string}:opened` } });
    const list = await acme(`/anomalies?sensorId=${sensor.id}`);
    expect(list.status).toBe(200);
    const { items } = (await list.json()) as { items: Record<string, unknown>[] };
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ id: opened[0].detail.episodeId, status: 'open', severity: expect.any(String), model: { name: 'streaming', version: '1' } });
    expect(Date.parse(items[0].start as string)).toBeGreaterThanOrEqual(t0 + 520_000);
    expect(Date.parse(items[0].start as string)).toBeLessThan(t0 + 560_000);
  });

  it("stores each reading's score beside it in the readings store", async () => {
    const store = dynamoReadingsStore({ tableName: local.cloud.names.table('readings'), spanOf: async () => bucketSpanMs(1), retentionDays: 0 });
    const stored = [];
    for await (const r of store.range('acme', sensor.id, t0, t0 + 600_000)) stored.push(r);
    expect(stored).toHaveLength(600);
    expect(stored.every((r) => typeof r.score === 'number')).toBe(true);
    expect(stored.filter((r) => r.label === 1).length).toBeGreaterThan(0);
  });

  it('lists by group, status and start time, and refuses a bad range', async () => {
    const page = async (query: string) => ((await (await acme(`/anomalies?${query}`)).json()) as { items: unknown[] }).items;
    expect(await page('group=pump-7&status=open')).toHaveLength(1);
    expect(await page('group=pump-7&status=closed')).toHaveLength(0);
    expect(await page('group=pump-8')).toHaveLength(0);
    expect(await page(`from=${new Date(t0 + 580_000).toISOString()}`)).toHaveLength(0);
    expect(await page(`from=${new Date(t0).toISOString()}&to=${new Date(t0 + 580_000).toISOString()}`)).toHaveLength(1);
    await expectProblem(await acme(`/anomalies?from=${new Date(t0 + 1000).toISOString()}&to=${new Date(t0).toISOString()}`), 400);
    await expectProblem(await acme('/anomalies?status=maybe'), 400);
  });

  it('after a quiet period the episode closes and anomaly.closed goes on the bus, once', async () => {
    const quiet = Array.from({ length: 200 }, (_, i) => ({ timestamp: t0 + (600 + i) * 1000, value: 2 + 0.1 * noise() }));
    await sendToScoring({ tenant: 'acme', sensorId: sensor.id, readings: quiet });
    await local.cloud.drain(20_000);
    await sendToScoring({ tenant: 'acme', sensorId: sensor.id, readings: quiet });
    await local.cloud.drain(20_000);
    expect(closed).toHaveLength(1);
    expect(closed[0].detail).toMatchObject({ episodeId: opened[0].detail.episodeId, status: 'closed', closedAt: expect.any(String) });
    const episode = (await (await acme(`/anomalies/${opened[0].detail.episodeId as string}`)).json()) as Record<string, string>;
    expect(episode).toMatchObject({ status: 'closed', start: opened[0].detail.start });
    expect(Date.parse(episode.closedAt) - Date.parse(episode.end)).toBeGreaterThanOrEqual(60_000);
    expect(opened).toHaveLength(1);
  });

  it('PATCH records the verdict with who and when; another tenant gets 404', async () => {
    const id = opened[0].detail.episodeId as string;
    const token = await local.cloud.mintToken({ tenant: 'acme', scopes: ['telltale/ingest'], subject: 'operator-ana' });
    const patch = await fetch(`${local.cloud.url}/api/v1/anomalies/${id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ verdict: 'confirmed', note: 'bearing noise confirmed on site' }),
    });
    expect(patch.status).toBe(200);
    expect(await patch.json()).toMatchObject({ id, verdict: { verdict: 'confirmed', note: 'bearing noise confirmed on site', by: 'operator-ana', at: expect.any(String) } });
    expect(await (await acme(`/anomalies/${id}`)).json()).toMatchObject({ verdict: { verdict: 'confirmed', by: 'operator-ana' } });

    const other = await local.client('globex');
    await expectProblem(await other(`/anomalies/${id}`), 404);
    await expectProblem(await other(`/anomalies/${id}`, { method: 'PATCH', body: JSON.stringify({ verdict: 'rejected' }) }), 404);
    expect(((await (await other('/anomalies')).json()) as { items: unknown[] }).items).toEqual([]);
    await expectProblem(await acme(`/anomalies/${id}`, { method: 'PATCH', body: JSON.stringify({ verdict: 'maybe' }) }), 400);
    await expectProblem(await acme('/anomalies/not-an-episode'), 400);
  });

  it('a new sensor that names a READY dataset is warmed up on its column: its first live readings are scored; a missing dataset falls back to the readings', async () => {
    const history = Array.from({ length: 600 }, (_, i) => `${new Date(t0 - (600 - i) * 1000).toISOString()},${(6 + 0.05 * noise()).toFixed(4)}`);
    expect((await acme('/datasets', { method: 'POST', body: JSON.stringify({ id: 'pump-9-history', name: 'Pump 9 last week', content: `timestamp,pump-9-pressure\n${history.join('\n')}\n` }) })).status).toBe(201);
    expect(await local.settled(acme, '/datasets/pump-9-history')).toMatchObject({ status: 'READY' });
    const named = { ...sensor, id: 'pump-9-pressure', name: 'Pump 9 pressure', type: 'pressure', unit: 'bar', group: 'pump-9' };
    expect((await acme('/sensors', { method: 'POST', body: JSON.stringify({ ...named, warmupDatasetId: 'pump-9-history' }) })).status).toBe(201);
    expect((await acme('/sensors', { method: 'POST', body: JSON.stringify({ ...named, id: 'pump-10-pressure', group: 'pump-10', warmupDatasetId: 'no-such-dataset' }) })).status).toBe(201);

    const live = (id: string): ReadingsMessage => ({ tenant: 'acme', sensorId: id, readings: Array.from({ length: 10 }, (_, i) => ({ timestamp: t0 + i * 1000, value: i === 9 ? 9 : 6 + 0.05 * noise() })) });
    await sendToScoring(live('pump-9-pressure'));
    await sendToScoring(live('pump-10-pressure'));
    await local.cloud.drain(20_000);
    expect(opened.filter((e) => e.detail.sensorId === 'pump-9-pressure')).toHaveLength(1);
    expect(opened.filter((e) => e.detail.sensorId === 'pump-10-pressure')).toHaveLength(0);
  });

  it('the state store on DynamoDB: a write expecting a version another scorer already replaced is refused; pending effects clear only for their version', async () => {
    const states = dynamoScorerStateStore(local.cloud.names.table('anomalies'));
    const state = (version: number, lastTimestamp: number) => ({
      version,
      lastTimestamp,
      detector: new StreamingDetector().serialize(),
      tracker: { active: null },
      pending: {
        episodes: [
          {
            snapshot: episodeSnapshot('acme', { id: 'race-1' }, { episode: { onset: lastTimestamp, lastActive: lastTimestamp, peakScore: 0.7, peakAt: lastTimestamp, kind: null, points: 1, revision: 1 }, status: 'open', events: ['opened'] }, streamingModel),
            events: ['opened' as const],
          },
        ],
      },
    });
    expect(await states.save('acme', 'race-1', state(1, 10), 0)).toBe(true);
    expect(await states.save('acme', 'race-1', state(1, 11), 0)).toBe(false);
    expect(await states.save('acme', 'race-1', state(2, 20), 1)).toBe(true);
    expect(await states.save('acme', 'race-1', state(2, 21), 1)).toBe(false);
    await states.clearPending('acme', 'race-1', 1);
    expect(await states.load('acme', 'race-1')).toMatchObject({ version: 2, lastTimestamp: 20, pending: { episodes: [{ events: ['opened'] }] } });
    await states.clearPending('acme', 'race-1', 2);
    expect(await states.load('acme', 'race-1')).toMatchObject({ version: 2, pending: null });
    expect(await states.load('globex', 'race-1')).toBeUndefined();
  });

  it('the episode store on DynamoDB: one publisher at a time claims an event; a lapsed or given-back claim can be taken; a noted event is sent', async () => {
    const store = dynamoEpisodeStore(local.cloud.names.table('anomalies'));
    const change = { episode: { onset: t0, lastActive: t0, peakScore: 0.7, peakAt: t0, kind: null, points: 1, revision: 1 }, status: 'open' as const, events: ['opened' as const] };
    const { episode } = episodeSnapshot('claims-co', { id: 'claim-1' }, change, streamingModel);
    await store.save('claims-co', { episode, revision: 1 });
    expect(await store.claimEvent('claims-co', episode.id, 'opened', { by: 'a', until: 2_000 }, 1_000)).toBe('claimed');
    expect(await store.claimEvent('claims-co', episode.id, 'opened', { by: 'b', until: 2_500 }, 1_500)).toBe('held');
    // A claim of the other event is its own.
    expect(await store.claimEvent('claims-co', episode.id, 'closed', { by: 'b', until: 2_500 }, 1_500)).toBe('claimed');
    // a died: past its claim's end, b takes it; a giving back what it no longer holds changes nothing.
    expect(await store.claimEvent('claims-co', episode.id, 'opened', { by: 'b', until: 3_000 }, 2_001)).toBe('claimed');
    await store.releaseEvent('claims-co', episode.id, 'opened', 'a');
    expect(await store.claimEvent('claims-co', episode.id, 'opened', { by: 'c', until: 4_000 }, 2_500)).toBe('held');
    await store.releaseEvent('claims-co', episode.id, 'opened', 'b');
    expect(await store.claimEvent('claims-co', episode.id, 'opened', { by: 'c', until: 4_000 }, 2_500)).toBe('claimed');
    await store.markNotified('claims-co', episode.id, 'opened');
    expect(await store.claimEvent('claims-co', episode.id, 'opened', { by: 'd', until: 9_000 }, 8_000)).toBe('sent');
    // A later snapshot keeps the claims and notes.
    await store.save('claims-co', { episode, revision: 2 });
    expect(await store.claimEvent('claims-co', episode.id, 'opened', { by: 'd', until: 9_000 }, 8_000)).toBe('sent');
  });

  it('pages through episodes newest first with an opaque cursor that another tenant cannot use', async () => {
    const first = (await (await acme('/anomalies?limit=1')).json()) as { items: { sensorId: string; start: string }[]; nextCursor?: string };
    expect(first.items).toHaveLength(1);
    expect(first.nextCursor).toBeTruthy();
    const second = (await (await acme(`/anomalies?limit=1&cursor=${first.nextCursor!}`)).json()) as { items: { sensorId: string; start: string }[] };
    expect(second.items).toHaveLength(1);
    expect(new Set([first.items[0].sensorId, second.items[0].sensorId])).toEqual(new Set(['pump-7-vibration', 'pump-9-pressure']));
    expect(Date.parse(first.items[0].start)).toBeGreaterThanOrEqual(Date.parse(second.items[0].start));
    const other = await local.client('globex');
    await expectProblem(await other(`/anomalies?limit=1&cursor=${first.nextCursor!}`), 400);
  });

  it('two batches scored at once each answer for their own records only (partial batch responses do not mix)', async () => {
    const scorer = local.cloud.functions.get('scoreReadings')!;
    const record = (id: string, body: string) => ({ messageId: id, receiptHandle: id, body, attributes: { ApproximateReceiveCount: '1' }, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:scoring', awsRegion: 'us-east-1' });
    const later = t0 + 3_600_000;
    const good = (id: string, i: number) => record(id, JSON.stringify({ tenant: 'acme', sensorId: sensor.id, readings: [{ timestamp: later + i * 1000, value: 2 }] }));
    const invoke = (records: ReturnType<typeof record>[]) => scorer.handler({ Records: records } as never, lambdaContext(scorer.spec)) as Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;
    const [a, b] = await Promise.all([invoke([record('a-poison', '{"tenant":"acme"}'), good('a-good', 0)]), invoke([good('b-1', 1), good('b-2', 2), good('b-3', 3)])]);
    expect(a.batchItemFailures).toEqual([{ itemIdentifier: 'a-poison' }]);
    expect(b.batchItemFailures).toEqual([]);
  });

  it('a message that is not a readings message goes to the dead-letter queue after its retries, alone', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: local.cloud.names.queue('scoring'), MessageBody: '{"tenant":"acme"}', MessageGroupId: 'poison', MessageDeduplicationId: 'poison' }));
    await local.cloud.drain(20_000);
    expect(local.cloud.deadLetters('scoring').map((d) => d.body)).toEqual(['{"tenant":"acme"}']);
  });
});
