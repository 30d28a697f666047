import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoMetricCounters } from '../../../shared/aws/metricCounters.js';
import { histogramQuantile, latencyBucket, latencyBucketCount, minuteOf, stepFigures, type MetricCounterStore, type MinuteFigures, type MinuteRecord } from '../../../shared/monitoring/metrics.js';
import { countingKey, countsOfEvent, parseCountedEvent } from '../../../shared/monitoring/metricsEvents.js';
import { MetricsRecorder } from '../../../shared/monitoring/metricsRecorder.js';
import { tables } from '../../../shared/platform/resources.js';
import { createTableInput } from '../../../local/provision.js';
import { startDynamoDb, type EmbeddedService } from '../../../local/storage.js';

const t0 = Date.UTC(2026, 0, 1, 12, 0);
const m0 = minuteOf(t0);

/** A store in memory that adds as the DynamoDB one does, and can be told to fail. */
function memoryStore(): MetricCounterStore & { writes: number; failNext: boolean } {
  const items = new Map<string, MinuteRecord & { tenant: string }>();
  const store = {
    writes: 0,
    failNext: false,
    async add(tenant: string, minute: number, { sums, maxes }: MinuteFigures) {
      if (store.failNext) {
        store.failNext = false;
        throw new Error('throttled');
      }
      store.writes += 1;
      const item = items.get(`${tenant}|${minute}`) ?? { tenant, minute, sums: {}, maxes: {} };
      for (const [k, v] of Object.entries(sums)) item.sums[k] = (item.sums[k] ?? 0) + v;
      for (const [k, v] of Object.entries(maxes)) item.maxes[k] = Math.max(item.maxes[k] ?? v, v);
      items.set(`${tenant}|${minute}`, item);
    },
    async read(tenant: string, from: number, to: number) {
      return [...items.values()].filter((i) => i.tenant === tenant && i.minute >= from && i.minute < to).sort((a, b) => a.minute - b.minute);
    },
  };
  return store;
}

describe('latency histogram', () => {
  it('puts a latency in a bucket whose quantile is within 10 % of it', () => {
    for (const ms of [0.3, 1, 4.2, 17, 50, 333, 12_000]) {
      const counts = Array.from({ length: latencyBucketCount }, (_, i) => (i === latencyBucket(ms) ? 1 : 0));
      expect(Math.abs(histogramQuantile(counts, 0.5)! - ms) / ms).toBeLessThan(0.1);
    }
    expect(latencyBucket(0)).toBe(0);
    expect(latencyBucket(1e12)).toBe(latencyBucketCount - 1);
  });

  it('finds p50 and p95 of a skewed distribution', () => {
    const counts = new Array<number>(latencyBucketCount).fill(0);
    for (let i = 0; i < 90; i++) counts[latencyBucket(2)] += 1;
    for (let i = 0; i < 10; i++) counts[latencyBucket(80)] += 1;
    expect(histogramQuantile(counts, 0.5)).toBeCloseTo(2, 0);
    expect(histogramQuantile(counts, 0.95)! / 80).toBeGreaterThan(0.9);
    expect(histogramQuantile(new Array<number>(latencyBucketCount).fill(0), 0.5)).toBeNull();
  });
});

describe('the metrics recorder', () => {
  it('adds up every figure of a tenant-minute in memory and writes it once per flush', async () => {
    const store = memoryStore();
    const recorder = new MetricsRecorder(store, { flushAfterMs: 60_000 });
    for (let i = 0; i < 50; i++) recorder.count('acme', { readingsIngested: 10, readingsRejected: i % 10 === 0 ? 1 : 0 }, t0 + i * 100);
    recorder.count('other', { readingsIngested: 3 }, t0);
    recorder.scoringLag('acme', 120, t0);
    recorder.scoringLag('acme', 480, t0 + 1000);
    for (let i = 0; i < 100; i++) recorder.predictLatency('acme', i < 95 ? 3 : 200, t0);
    expect(store.writes).toBe(0);
    await recorder.flush();
    expect(store.writes).toBe(2);
    const [step] = stepFigures(await store.read('acme', m0, m0 + 1), m0, m0 + 1, 1);
    expect(step.counts).toMatchObject({ readingsIngested: 500, readingsRejected: 5, episodesOpened: 0 });
    expect(step.scoringLag).toEqual({ count: 2, meanMs: 300, maxMs: 480 });
    expect(step.predictLatency.count).toBe(100);
    expect(step.predictLatency.p50Ms! / 3).toBeGreaterThan(0.9);
    expect(step.predictLatency.p95Ms! / 3).toBeLessThan(1.1);
    expect(stepFigures(await store.read('other', m0, m0 + 1), m0, m0 + 1, 1)[0].counts.readingsIngested).toBe(3);
  });

  it('flushes by itself after its delay, and keeps what a failed write held for the next flush', async () => {
    const store = memoryStore();
    const errors: unknown[] = [];
    const recorder = new MetricsRecorder(store, { flushAfterMs: 5, onFlushError: (e) => errors.push(e) });
    store.failNext = true;
    recorder.count('acme', { episodesOpened: 2 }, t0);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(errors).toHaveLength(1);
    expect(stepFigures(await store.read('acme', m0, m0 + 1), m0, m0 + 1, 1)[0].counts.episodesOpened).toBe(2);
  });
});

describe('steps', () => {
  it('merges minutes into steps, with every step present and the largest lag of its minutes', () => {
    const records: MinuteRecord[] = [
      { minute: m0, sums: { pipelineRuns: 1, scoringLagSumMs: 100, scoringLagCount: 1 }, maxes: { scoringLagMaxMs: 100 } },
      { minute: m0 + 4, sums: { pipelineRuns: 2, scoringLagSumMs: 900, scoringLagCount: 1 }, maxes: { scoringLagMaxMs: 900 } },
      { minute: m0 + 12, sums: { pipelineFailures: 1 }, maxes: {} },
    ];
    const steps = stepFigures(records, m0, m0 + 15, 5);
    expect(steps.map((s) => s.start)).toEqual([t0, t0 + 300_000, t0 + 600_000].map((t) => new Date(t).toISOString()));
    expect(steps[0]).toMatchObject({ counts: { pipelineRuns: 3 }, scoringLag: { count: 2, meanMs: 500, maxMs: 900 } });
    expect(steps[1]).toMatchObject({ counts: { pipelineRuns: 0 }, scoringLag: { count: 0, meanMs: null, maxMs: null }, predictLatency: { count: 0, p50Ms: null } });
    expect(steps[2].counts.pipelineFailures).toBe(1);
  });
});

describe('the DynamoDB counters', () => {
  let dynamo: EmbeddedService;
  beforeAll(async () => {
    dynamo = await startDynamoDb(null);
    Object.assign(process.env, { AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' });
    const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await client.send(new CreateTableCommand(createTableInput('monitoring-test', tables.monitoring)));
  });
  afterAll(() => dynamo.stop());

  it('adds concurrent writes without losing any, keeps the largest maximum, and reads a tenant range only', async () => {
    const store = dynamoMetricCounters('monitoring-test');
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.add('acme', m0, { sums: { readingsIngested: 5, scoringLagCount: 1 }, maxes: { scoringLagMaxMs: i * 10 } })));
    await store.add('acme', m0 + 1, { sums: { alertsFired: 1 }, maxes: {} });
    await store.add('acme', m0 + 2, { sums: { alertsFired: 7 }, maxes: {} });
    await store.add('other', m0, { sums: { readingsIngested: 1 }, maxes: {} });
    const records = await store.read('acme', m0, m0 + 2);
    expect(records).toEqual([
      { minute: m0, sums: { readingsIngested: 100, scoringLagCount: 20 }, maxes: { scoringLagMaxMs: 190 } },
      { minute: m0 + 1, sums: { alertsFired: 1 }, maxes: {} },
    ]);
  });
});

describe('the events countEvents counts', () => {
  const event = (type: string, detail: Record<string, unknown>, id = 'evt-1') => parseCountedEvent({ id, 'detail-type': type, time: '2026-01-01T12:00:00Z', detail });
  it('maps each detail type to its counts, and tells a failed training from a failed dataset run', () => {
    expect(countsOfEvent(event('anomaly.opened', { tenant: 'a', episodeId: 'e' }))).toEqual({ episodesOpened: 1 });
    expect(countsOfEvent(event('alert.fired', { tenant: 'a' }))).toEqual({ alertsFired: 1 });
    expect(countsOfEvent(event('alert.delivery.failed', { tenant: 'a' }))).toEqual({ deliveriesFailed: 1 });
    expect(countsOfEvent(event('data.processed', { tenant: 'a' }))).toEqual({ pipelineRuns: 1 });
    expect(countsOfEvent(event('pipeline.failed', { tenant: 'a', datasetId: 'd' }))).toEqual({ pipelineRuns: 1, pipelineFailures: 1 });
    expect(countsOfEvent(event('model.registered', { tenant: 'a' }))).toEqual({ trainingJobs: 1 });
    expect(countsOfEvent(event('pipeline.failed', { tenant: 'a', pipeline: 'training' }))).toEqual({ trainingJobs: 1, trainingFailures: 1 });
  });

  it('counts an episode once whatever event carried it, and any other event once by its id', () => {
    expect(countingKey(event('anomaly.opened', { tenant: 'a', episodeId: 'ep-1' }, 'evt-1'))).toBe(countingKey(event('anomaly.opened', { tenant: 'a', episodeId: 'ep-1' }, 'evt-2')));
    expect(countingKey(event('alert.fired', { tenant: 'a' }, 'evt-1'))).not.toBe(countingKey(event('alert.fired', { tenant: 'a' }, 'evt-2')));
  });

  it('refuses an event without a tenant or of a type it does not count', () => {
    expect(() => event('anomaly.opened', { episodeId: 'e' })).toThrow();
    expect(() => event('anomaly.closed', { tenant: 'a' })).toThrow();
  });
});
