import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dynamoDb } from '../../../shared/aws/dynamoDbClient.js';
import { dynamoReadingsStore } from '../../../shared/aws/dynamoReadingsStore.js';
import { tables } from '../../../shared/platform/resources.js';
import { bucketSpanMs } from '../../../shared/sensors/readingBucket.js';
import type { StoredReading } from '../../../shared/sensors/readingsStore.js';
import { createTableInput } from '../../../local/provision.js';
import { startDynamoDb, type EmbeddedService } from '../../../local/storage.js';

// The adapter against dynalite (DynamoDB's wire API): conditional writes and queries as on AWS.
let dynamo: EmbeddedService;
let units = 0;
const store = dynamoReadingsStore({ tableName: 'readings-test', spanOf: async () => bucketSpanMs(1), retentionDays: 30, onWriteUnits: (u) => (units += u) });
const t0 = Date.UTC(2026, 0, 1);
/** The sort key of the bucket that ends at `end` (the adapter's, zero-padded). */
const sortKeyOfBucketEnding = (end: number) => String(end).padStart(15, '0');

const collect = async (it: AsyncIterable<StoredReading>) => {
  const out: StoredReading[] = [];
  for await (const r of it) out.push(r);
  return out;
};

beforeAll(async () => {
  dynamo = await startDynamoDb(null);
  Object.assign(process.env, { AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' });
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  await client.send(new CreateTableCommand(createTableInput('readings-test', tables.readings)));
});
afterAll(() => dynamo.stop());

describe('the DynamoDB readings store', () => {
  it('stores readings once by (tenant, sensor, timestamp), across buckets, and reads a range in order', async () => {
    const readings = Array.from({ length: 500 }, (_, i) => ({ timestamp: t0 + i * 1000, value: i / 4 }));
    expect(await store.put('acme', 's1', readings)).toMatchObject({ stored: 500, duplicates: 0, late: 0 });
    expect(await store.put('acme', 's1', readings.slice(100, 300))).toMatchObject({ stored: 0, duplicates: 200 });
    const back = await collect(store.range('acme', 's1', t0 + 150_000, t0 + 450_000));
    expect(back.map((r) => r.timestamp)).toEqual(readings.slice(150, 450).map((r) => r.timestamp));
    expect(back[0].value).toBe(150 / 4);
    expect(await collect(store.range('other', 's1', t0, t0 + 1e9))).toEqual([]);
  });

  it('marks a reading older than the newest stored one as late', async () => {
    await store.put('acme', 's2', [{ timestamp: t0 + 10_000, value: 1 }]);
    expect(await store.put('acme', 's2', [{ timestamp: t0 + 5_000, value: 2 }])).toMatchObject({ stored: 1, late: 1, lateTimestamps: [t0 + 5_000] });
    expect(await collect(store.range('acme', 's2', t0, t0 + 20_000))).toEqual([
      { timestamp: t0 + 5_000, value: 2, late: true },
      { timestamp: t0 + 10_000, value: 1 },
    ]);
  });

  it('finds none of a batch late behind its own readings when it comes back after part of it was stored', async () => {
    const batch = Array.from({ length: 400 }, (_, i) => ({ timestamp: t0 + i * 1000, value: i }));
    // The first attempt stored the later bucket, then a write of the earlier one failed: the message comes back whole.
    await store.put('acme', 's4', batch.slice(200));
    expect(await store.put('acme', 's4', batch)).toMatchObject({ stored: 200, duplicates: 200, late: 0, lateTimestamps: [] });
    expect((await collect(store.range('acme', 's4', t0, t0 + 400_000))).filter((r) => r.late)).toEqual([]);
  });

  it('leaves no later reading stored when a put fails part way, so its first messages retried alone are not late', async () => {
    // The writer merges two messages of a sensor (0-499, 500-999 s) into one put of five buckets; the
    // second bucket's write is throttled. SQS may then hand back the first message alone.
    const first = Array.from({ length: 500 }, (_, i) => ({ timestamp: t0 + 1_000_000 + i * 1000, value: i }));
    const second = first.map((r) => ({ timestamp: r.timestamp + 500_000, value: -r.value }));
    const client = dynamoDb();
    const send = client.send.bind(client);
    const throttled = sortKeyOfBucketEnding(t0 + 1_000_000 + 400_000);
    const spy = vi.spyOn(client, 'send').mockImplementation(((command: { input: { Item?: { pk: string; sk: string } } }) => {
      if (command.input.Item?.pk.endsWith('#S#s6') && command.input.Item.sk === throttled) {
        return Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException', $retryable: {} }));
      }
      return send(command as never);
    }) as never);
    try {
      await expect(store.put('acme', 's6', [...first, ...second])).rejects.toThrow();
      // Writes of the failed put still in flight land before the message comes back.
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      spy.mockRestore();
    }
    expect(await store.put('acme', 's6', first)).toMatchObject({ stored: 300, duplicates: 200, late: 0, lateTimestamps: [] });
    expect(await store.put('acme', 's6', second)).toMatchObject({ stored: 500, late: 0 });
    expect((await collect(store.range('acme', 's6', t0, t0 + 3_000_000))).filter((r) => r.late)).toEqual([]);
  });

  it('still finds a retried batch late behind a newer reading that is not its own', async () => {
    const batch = Array.from({ length: 200 }, (_, i) => ({ timestamp: t0 + i * 2000, value: i }));
    await store.put('acme', 's5', [...batch.slice(100), { timestamp: t0 + 301_000, value: -1 }]);
    const result = await store.put('acme', 's5', batch);
    expect(result).toMatchObject({ stored: 100, duplicates: 100, late: 100 });
    expect(result.lateTimestamps).toEqual(batch.slice(0, 100).map((r) => r.timestamp));
  });

  it('loses no reading when writers race on one bucket (conditional, versioned writes)', async () => {
    const writes = Array.from({ length: 8 }, (_, w) => store.put('acme', 's3', Array.from({ length: 10 }, (_, i) => ({ timestamp: t0 + (i * 8 + w) * 100, value: w }))));
    const results = await Promise.all(writes);
    expect(results.reduce((sum, r) => sum + r.stored, 0)).toBe(80);
    expect(await collect(store.range('acme', 's3', t0, t0 + 100_000))).toHaveLength(80);
  });

  it('keeps scores and labels of stored readings, ignores missing ones, and a replay writes nothing', async () => {
    await store.putScores('acme', 's1', [{ timestamp: t0 + 2000, score: 0.25, label: 0 }, { timestamp: t0 + 3000, score: 0.9, label: 1 }, { timestamp: t0 - 1, score: 1, label: 1 }]);
    const before = units;
    expect(before).toBeGreaterThan(0);
    await store.putScores('acme', 's1', [{ timestamp: t0 + 3000, score: 0.9, label: 1 }]);
    expect(units).toBe(before);
    expect(await collect(store.range('acme', 's1', t0 + 2000, t0 + 4000))).toEqual([
      { timestamp: t0 + 2000, value: 0.5, score: 0.25, label: 0 },
      { timestamp: t0 + 3000, value: 0.75, score: 0.9, label: 1 },
    ]);
  });
});
