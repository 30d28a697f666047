import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { QueryCommand, UpdateCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { boundName } from '../platform/config.js';
import { tables } from '../platform/resources.js';
import type { MetricCounterStore, MinuteRecord } from '../monitoring/metrics.js';
import { MetricsRecorder, type Figure } from '../monitoring/metricsRecorder.js';
import { logger, metrics } from '../platform/observability.js';
import { lazy, once } from './clients.js';
import { dynamoDb } from './dynamoDbClient.js';
import { callAws, callAwsUnless } from './errors.js';
import { tenantKey } from './tenantItems.js';

/** Days a tenant's minute counters are kept (the table's TTL removes them after). */
export const metricsRetentionDays = 35;

/** Sort keys of the counters sort by time: `M#` and the epoch minute, zero-padded. */
const minuteKey = (minute: number) => `M#${String(minute).padStart(10, '0')}`;
const attributesOf = (prefix: string, values: Record<string, number>) => Object.entries(values).map(([name, value], i) => ({ name, placeholder: `${prefix}${i}`, value }));
const meta = new Set(['pk', 'sk', 'expiresAt', 'minute']);
const maxSuffix = 'MaxMs';

/**
 * The per-minute counters in the monitoring table, one item per tenant and minute. Sums are one
 * UpdateItem with ADD (no read first, so concurrent writers never lose an update); a maximum is a
 * second, conditional SET, only when there is one to raise.
 */
export function dynamoMetricCounters(tableName = boundName('TABLE', tables.monitoring.name)): MetricCounterStore {
  return {
    async add(tenant, minute, { sums, maxes }) {
      // Every write of the minute's item stamps its expiry (once) and its minute, for reading back.
      const stamped = (input: { update: string; names: Record<string, string>; values: Record<string, unknown>; condition?: string }) =>
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: tenantKey(tenant), sk: minuteKey(minute) },
          UpdateExpression: `SET #expiresAt = if_not_exists(#expiresAt, :expiresAt), #minute = :minute${input.update}`,
          ...(input.condition ? { ConditionExpression: input.condition } : {}),
          ExpressionAttributeNames: { '#expiresAt': 'expiresAt', '#minute': 'minute', ...input.names },
          ExpressionAttributeValues: { ':expiresAt': (minute + 1) * 60 + metricsRetentionDays * 86_400, ':minute': minute, ...input.values },
        });
      const added = attributesOf('a', sums);
      if (added.length > 0) {
        const update = ` ADD ${added.map((a) => `#${a.placeholder} :${a.placeholder}`).join(', ')}`;
        const names = Object.fromEntries(added.map((a) => [`#${a.placeholder}`, a.name]));
        const values = Object.fromEntries(added.map((a) => [`:${a.placeholder}`, a.value]));
        await callAws('DynamoDB', () => dynamoDb().send(stamped({ update, names, values })));
      }
      for (const { name, value } of attributesOf('m', maxes)) {
        // Kept only when larger: a lost condition is the answer "a larger one is stored", not an error.
        const raise = stamped({ update: ', #max = :value', names: { '#max': name }, values: { ':value': value }, condition: 'attribute_not_exists(#max) OR #max < :value' });
        await callAwsUnless('DynamoDB', () => dynamoDb().send(raise), (error) => (error as { name?: string }).name === 'ConditionalCheckFailedException', undefined);
      }
    },

    async read(tenant, fromMinute, toMinute) {
      const records: MinuteRecord[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page: QueryCommandOutput = await callAws('DynamoDB', () =>
          dynamoDb().send(
            new QueryCommand({
              TableName: tableName,
              KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
              ExpressionAttributeValues: { ':pk': tenantKey(tenant), ':from': minuteKey(fromMinute), ':to': minuteKey(toMinute - 1) },
              ExclusiveStartKey: start,
            }),
          ),
        );
        for (const item of page.Items ?? []) {
          const sums: Record<string, number> = {};
          const maxes: Record<string, number> = {};
          for (const [name, value] of Object.entries(item)) {
            if (meta.has(name) || typeof value !== 'number') continue;
            (name.endsWith(maxSuffix) ? maxes : sums)[name] = value;
          }
          records.push({ minute: Number(item.minute), sums, maxes });
        }
        start = page.LastEvaluatedKey;
      } while (start);
      return records;
    },
  };
}

const metricName = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);
/** The same figure as a CloudWatch metric (EMF through Powertools, flushed by the handler's logMetrics). */
const emitFigure = (figure: Figure) =>
  'count' in figure ? metrics.addMetric(metricName(figure.name), MetricUnit.Count, figure.count) : metrics.addMetric(metricName(figure.name), MetricUnit.Milliseconds, figure.ms);

/**
 * The container's recorder of the tenant's figures: counted in memory, written to the monitoring
 * table in the background (off the request's path), and emitted as CloudWatch metrics.
 */
export const platformMetrics = once(
  () =>
    // The table is named at the first write, in the background: a request never fails for the counters.
    new MetricsRecorder(lazy(() => dynamoMetricCounters()), {
      onFigure: emitFigure,
      onFlushError: (error) => logger.warn('metric counters not written; kept for the next flush', { error: error as Error }),
    }),
);
