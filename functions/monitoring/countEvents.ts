import type { EventBridgeEvent } from 'aws-lambda';
import { platformMetrics } from '../../shared/aws/metricCounters.js';
import { countsOfEvent, parseCountedEvent } from '../../shared/monitoring/metricsEvents.js';
import { taskHandler } from '../../shared/platform/taskHandler.js';

/**
 * Counts the platform's events in their tenant's minute (episodes opened, alerts fired, deliveries
 * failed, pipeline runs and training jobs). The write is awaited: an event counted is an event kept.
 */
export const handler = taskHandler(async (event: EventBridgeEvent<string, unknown>) => {
  const counted = parseCountedEvent(event);
  const recorder = platformMetrics();
  recorder.count(counted.detail.tenant, countsOfEvent(counted), Date.parse(counted.time));
  await recorder.flush();
});
