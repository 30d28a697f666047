import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import { applyScores, bucketStartOf, decodeBucket, encodeBucket, mergeReadings, type MergeResult } from '../sensors/readingBucket.js';
import type { PutResult, ReadingsStore, ReadingToStore, StoredReading } from '../sensors/readingsStore.js';
import { dynamoDb } from './dynamoDbClient.js';
import { callAws } from './errors.js';
import { tenantKey } from './tenantItems.js';

export interface DynamoReadingsStoreOptions {
  tableName: string;
  /** The bucket span of a sensor (readingBucket.bucketSpanMs of its sampling interval); never changes for a sensor. */
  spanOf(tenant: string, sensorId: string): Promise<number>;
  /** Buckets expire this many days after their end (DynamoDB TTL); 0 keeps them. */
  retentionDays: number;
  /** Told the write units each write consumed (benchmarks, metrics). */
  onWriteUnits?: (units: number) => void;
}

/**
 * One partition per sensor (`T#<tenant>#S#<sensor>`), so a busy tenant's writes spread over as
 * many partitions as it has sensors. The sort key is the bucket's end, zero-padded: a range read
 * starts at the first bucket ending after `from` without knowing the sensor's span.
 */
export const readingsPartition = (tenant: string, sensorId: string) => `${tenantKey(tenant)}#S#${sensorId}`;
const sortKeyOf = (end: number) => String(end).padStart(15, '0');
/** Concurrent writers of a bucket retry on a lost condition this many times before giving up. */
const maxAttempts = 20;

interface BucketItem {
  pk: string;
  sk: string;
  /** Bucket start, epoch ms. */
  s: number;
  /** Version, bumped by every write; writes are conditional on it. */
  v: number;
  /** Newest timestamp in the bucket. */
  l: number;
  d: Uint8Array;
  expiresAt?: number;
}

export function dynamoReadingsStore(options: DynamoReadingsStoreOptions): ReadingsStore {
  const { tableName } = options;
  const count = (capacity: ConsumedCapacity | undefined) => {
    if (capacity?.CapacityUnits !== undefined) options.onWriteUnits?.(capacity.CapacityUnits);
  };

  const getBucket = (pk: string, sk: string) =>
    callAws('DynamoDB', async () => (await dynamoDb().send(new GetCommand({ TableName: tableName, Key: { pk, sk }, ConsistentRead: true }))).Item as BucketItem | undefined);

  /** Writes the bucket if nobody else did since `previous` was read; false when someone did. */
  const writeBucket = async (item: BucketItem, previous: BucketItem | undefined): Promise<boolean> => {
    try {
      const result = await dynamoDb().send(
        new PutCommand({
          TableName: tableName,
          Item: item,
          ReturnConsumedCapacity: 'TOTAL',
          ...(previous
            ? { ConditionExpression: '#v = :v', ExpressionAttributeNames: { '#v': 'v' }, ExpressionAttributeValues: { ':v': previous.v } }
            : { ConditionExpression: 'attribute_not_exists(pk)' }),
        }),
      );
      count(result.ConsumedCapacity);
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      return callAws('DynamoDB', () => Promise.reject(error));
    }
  };

  /** Read, change, write on condition of the version read; again from the read when a concurrent writer won. */
  const updateBucket = async <R>(pk: string, start: number, span: number, change: (readings: StoredReading[]) => { readings: StoredReading[] | null; result: R }): Promise<R> => {
    const sk = sortKeyOf(start + span);
    for (let attempt = 1; ; attempt++) {
      const previous = await getBucket(pk, sk);
      const { readings, result } = change(previous ? decodeBucket(previous.s, previous.d) : []);
      if (!readings) return result;
      const item: BucketItem = { pk, sk, s: start, v: (previous?.v ?? 0) + 1, l: readings[readings.length - 1].timestamp, d: encodeBucket(start, readings) };
      if (options.retentionDays > 0) item.expiresAt = Math.floor((start + span) / 1000) + options.retentionDays * 86_400;
      if (await writeBucket(item, previous)) return result;
      if (attempt >= maxAttempts) throw new Error(`Bucket ${pk}/${sk} kept changing under ${maxAttempts} attempts to write it`);
    }
  };

  /** The sensor's newest stored timestamp (the last bucket's newest), or -Infinity when it has none. */
  const newestOf = (pk: string) =>
    callAws('DynamoDB', async () => {
      const result = await dynamoDb().send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          ProjectionExpression: '#l',
          ExpressionAttributeNames: { '#l': 'l' },
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        }),
      );
      const last = result.Items?.[0]?.l;
      return typeof last === 'number' ? last : Number.NEGATIVE_INFINITY;
    });

  const byBucket = <T extends { timestamp: number }>(items: readonly T[], span: number) => {
    const groups = new Map<number, T[]>();
    for (const item of items) {
      const start = bucketStartOf(item.timestamp, span);
      const group = groups.get(start);
      if (group) group.push(item);
      else groups.set(start, [item]);
    }
    return groups;
  };

  return {
    async put(tenant, sensorId, readings: readonly ReadingToStore[]): Promise<PutResult> {
      const total: PutResult & { lateTimestamps: number[] } = { stored: 0, duplicates: 0, late: 0, lateTimestamps: [] };
      if (readings.length === 0) return total;
      const pk = readingsPartition(tenant, sensorId);
      const [span, newest] = await Promise.all([options.spanOf(tenant, sensorId), newestOf(pk)]);
      const results = await Promise.all(
        [...byBucket(readings, span)].map(([start, incoming]) =>
          updateBucket<MergeResult>(pk, start, span, (existing) => {
            const merged = mergeReadings(existing, incoming, newest);
            return { readings: merged.stored > 0 ? merged.readings : null, result: merged };
          }),
        ),
      );
      for (const r of results) {
        total.stored += r.stored;
        total.duplicates += r.duplicates;
        total.late += r.late;
        total.lateTimestamps.push(...r.lateTimestamps);
      }
      return total;
    },

    async putScores(tenant, sensorId, scores) {
      if (scores.length === 0) return;
      const pk = readingsPartition(tenant, sensorId);
      const span = await options.spanOf(tenant, sensorId);
      await Promise.all(
        [...byBucket(scores, span)].map(([start, bucketScores]) =>
          updateBucket(pk, start, span, (readings) => ({ readings: applyScores(readings, bucketScores) ? readings : null, result: undefined })),
        ),
      );
    },

    async *range(tenant, sensorId, from, to) {
      if (to <= from) return;
      const pk = readingsPartition(tenant, sensorId);
      let exclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await callAws('DynamoDB', () =>
          dynamoDb().send(
            new QueryCommand({
              TableName: tableName,
              KeyConditionExpression: 'pk = :pk AND sk > :from',
              ExpressionAttributeValues: { ':pk': pk, ':from': sortKeyOf(from) },
              ExclusiveStartKey: exclusiveStartKey,
              Limit: 50,
            }),
          ),
        );
        for (const item of (page.Items ?? []) as BucketItem[]) {
          if (item.s >= to) return;
          for (const reading of decodeBucket(item.s, item.d)) {
            if (reading.timestamp >= to) return;
            if (reading.timestamp >= from) yield reading;
          }
        }
        exclusiveStartKey = page.LastEvaluatedKey;
      } while (exclusiveStartKey);
    },
  };
}
