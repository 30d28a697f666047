import type { EventBridgeEvent } from 'aws-lambda';
import { idempotentByKey } from '../../shared/aws/idempotency.js';
import { platformMetrics } from '../../shared/aws/metricCounters.js';
import type { CounterName } from '../../shared/monitoring/metrics.js';
import { countedEvent, countingKey, countsOfEvent } from '../../shared/monitoring/metricsEvents.js';
import { logger } from '../../shared/platform/observability.js';
import { taskHandler } from '../../shared/platform/taskHandler.js';

type Counts = Partial<Record<CounterName, number>>;

/**
 * Counted once per key for a day (longer than EventBridge's and Lambda's retries of an event). The
 * payload is what a repeat must match; the time may differ (a re-published event has its own).
 */
const countOnce = idempotentByKey(async ({ tenant, counts }: { tenant: string; counts: Counts }, { at }: { at: number }) => {
  const recorder = platformMetrics();
  recorder.count(tenant, counts, at);
  // Awaited: an event marked counted is an event whose count is written.
  await recorder.flush();
  return counts;
}, 86_400);

/**
 * Counts the platform's events in their tenant's minute (episodes opened, alerts fired, deliveries
 * failed, pipeline runs and training jobs), each event once (Powertools idempotency, by countingKey).
 */
export const handler = taskHandler(async (event: EventBridgeEvent<string, unknown>, lambdaContext) => {
  const parsed = countedEvent.safeParse(event);
  // No tenant, no tenant's figure: said once in the log, not retried (a retry would not find one either).
  if (!parsed.success) return logger.warn('event not counted: it names no tenant', { detailType: event['detail-type'], id: event.id, issues: parsed.error.issues });
  const counted = parsed.data;
  const { tenant } = counted.detail;
  await countOnce({ tenant, key: countingKey(counted), payload: { tenant, counts: countsOfEvent(counted) }, context: { at: Date.parse(counted.time) }, lambdaContext });
});
