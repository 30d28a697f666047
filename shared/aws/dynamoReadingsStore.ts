import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import { bucketStartOf, decodeBucket, decodeScores, encodeBucket, encodeScores, mergeReadings, mergeScores, withScores, type MergeResult } from '../sensors/readingBucket.js';
import type { PutResult, ReadingScore, ReadingsStore, ReadingToStore, StoredReading } from '../sensors/readingsStore.js';
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
 * starts at the first bucket ending after `from` without knowing the sensor's span. A bucket's
 * scores are an item of their own right after it (`<end>#s`), so scoring never rewrites readings.
 */
export const readingsPartition = (tenant: string, sensorId: string) => `${tenantKey(tenant)}#S#${sensorId}`;
const sortKeyOf = (end: number) => String(end).padStart(15, '0');
const scoresSuffix = '#s';
/** Concurrent writers of a bucket retry on a lost condition this many times before giving up. */
const maxAttempts = 20;

interface BucketItem {
  pk: string;
  sk: string;
  /** Bucket start, epoch ms. */
  s: number;
  /** Version, bumped by every write; writes are conditional on it. */
  v: number;
  /** Newest timestamp in the bucket (readings items only). */
  l?: number;
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

  const itemOf = (pk: string, sk: string, start: number, span: number, previous: BucketItem | undefined, d: Uint8Array): BucketItem => {
    const item: BucketItem = { pk, sk, s: start, v: (previous?.v ?? 0) + 1, d };
    if (options.retentionDays > 0) item.expiresAt = Math.floor((start + span) / 1000) + options.retentionDays * 86_400;
    return item;
  };

  /** Read, merge, write on condition of the version read; again from the read when a concurrent writer won. */
  const putBucket = async (pk: string, start: number, span: number, incoming: readonly ReadingToStore[], newest: number): Promise<MergeResult> => {
    const sk = sortKeyOf(start + span);
    for (let attempt = 1; ; attempt++) {
      const previous = await getBucket(pk, sk);
      const merged = mergeReadings(previous ? decodeBucket(previous.s, previous.d) : [], incoming, newest);
      if (merged.stored === 0) return merged;
      const item = itemOf(pk, sk, start, span, previous, encodeBucket(start, merged.readings));
      item.l = merged.readings[merged.readings.length - 1].timestamp;
      if (await writeBucket(item, previous)) return merged;
      if (attempt >= maxAttempts) throw new Error(`Bucket ${pk}/${sk} kept changing under ${maxAttempts} attempts to write it`);
    }
  };

  /** The same for a bucket's scores item, which holds scores of readings its bucket has. */
  const putBucketScores = async (pk: string, start: number, span: number, incoming: readonly ReadingScore[]): Promise<void> => {
    const sk = sortKeyOf(start + span);
    for (let attempt = 1; ; attempt++) {
      const { Items = [] } = await callAws('DynamoDB', () =>
        dynamoDb().send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :readings AND :scores',
            ExpressionAttributeValues: { ':pk': pk, ':readings': sk, ':scores': `${sk}${scoresSuffix}` },
            ConsistentRead: true,
          }),
        ),
      );
      const bucket = (Items as BucketItem[]).find((i) => i.sk === sk);
      if (!bucket) return;
      const previous = (Items as BucketItem[]).find((i) => i.sk !== sk);
      const scores = mergeScores(decodeBucket(bucket.s, bucket.d), previous ? decodeScores(previous.s, previous.d) : [], incoming);
      if (!scores) return;
      if (await writeBucket(itemOf(pk, `${sk}${scoresSuffix}`, start, span, previous, encodeScores(start, scores)), previous)) return;
      if (attempt >= maxAttempts) throw new Error(`Scores of bucket ${pk}/${sk} kept changing under ${maxAttempts} attempts to write them`);
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
          // The last bucket, and its scores item when it has one (which carries no `l`).
          Limit: 2,
          ConsistentRead: true,
        }),
      );
      return Math.max(Number.NEGATIVE_INFINITY, ...(result.Items ?? []).map((i) => i.l).filter((l): l is number => typeof l === 'number'));
    });

  /** A query's bucket items of the readings table, page after page. */
  async function* bucketItems(query: Omit<ConstructorParameters<typeof QueryCommand>[0], 'TableName' | 'ExclusiveStartKey'>): AsyncGenerator<BucketItem> {
    let exclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await callAws('DynamoDB', () => dynamoDb().send(new QueryCommand({ ...query, TableName: tableName, ExclusiveStartKey: exclusiveStartKey })));
      yield* (page.Items ?? []) as BucketItem[];
      exclusiveStartKey = page.LastEvaluatedKey;
    } while (exclusiveStartKey);
  }

  /**
   * The newest stored timestamp other than those of `ours`, against which ours are late. When the
   * sensor's newest reading is one of ours, this batch was partly stored before (a write of it failed,
   * and its message came back): ours must not be late behind themselves, so the newest other reading
   * is looked for among the buckets ours span (nothing stored is newer than the newest of ours).
   */
  const newestBesides = async (pk: string, span: number, ours: readonly ReadingToStore[], newest: number): Promise<number> => {
    const timestamps = new Set(ours.map((r) => r.timestamp));
    if (!timestamps.has(newest)) return newest;
    const first = bucketStartOf(Math.min(...timestamps), span);
    const last = bucketStartOf(Math.max(...timestamps), span);
    let other = Number.NEGATIVE_INFINITY;
    const query = { KeyConditionExpression: 'pk = :pk AND sk BETWEEN :first AND :last', ExpressionAttributeValues: { ':pk': pk, ':first': sortKeyOf(first + span), ':last': sortKeyOf(last + span) }, ConsistentRead: true };
    for await (const item of bucketItems(query)) {
      if (item.sk.endsWith(scoresSuffix)) continue;
      for (const r of decodeBucket(item.s, item.d)) if (!timestamps.has(r.timestamp) && r.timestamp > other) other = r.timestamp;
    }
    return other;
  };

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
      const [span, newestStored] = await Promise.all([options.spanOf(tenant, sensorId), newestOf(pk)]);
      const newest = await newestBesides(pk, span, readings, newestStored);
      // Buckets are written oldest first, one after the other, so a put that fails part way has stored
      // only readings older than every one it did not. The writer merges a sensor's messages of a
      // delivery into one put, and SQS may hand it back only the first of them: readings of a later
      // message stored by the failed put would otherwise make the earlier message's unstored ones late.
      const buckets = [...byBucket(readings, span)].sort(([a], [b]) => a - b);
      for (const [start, incoming] of buckets) {
        const r = await putBucket(pk, start, span, incoming, newest);
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
      await Promise.all([...byBucket(scores, span)].map(([start, bucketScores]) => putBucketScores(pk, start, span, bucketScores)));
    },

    async *range(tenant, sensorId, from, to) {
      if (to <= from) return;
      const pk = readingsPartition(tenant, sensorId);
      // Items come in key order: a bucket, then its scores item when it has one.
      let pending: BucketItem | undefined;
      let scores: ReadingScore[] = [];
      const readingsOf = function* (bucket: BucketItem): Generator<StoredReading, boolean> {
        for (const reading of withScores(decodeBucket(bucket.s, bucket.d), scores)) {
          if (reading.timestamp >= to) return false;
          if (reading.timestamp >= from) yield reading;
        }
        return true;
      };
      for await (const item of bucketItems({ KeyConditionExpression: 'pk = :pk AND sk > :from', ExpressionAttributeValues: { ':pk': pk, ':from': sortKeyOf(from) }, Limit: 100 })) {
        if (item.sk.endsWith(scoresSuffix)) {
          if (pending && item.sk === `${pending.sk}${scoresSuffix}`) scores = decodeScores(item.s, item.d);
          continue;
        }
        if (pending && !(yield* readingsOf(pending))) return;
        if (item.s >= to) return;
        scores = [];
        pending = item;
      }
      if (pending) yield* readingsOf(pending);
    },
  };
}
