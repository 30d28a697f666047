import type { EventBridgeEvent } from 'aws-lambda';
import { sqsAlertDeliveryQueue } from '../../shared/aws/alertNotifications.js';
import { dynamoAlertStore } from '../../shared/aws/alertRepository.js';
import { eventBusPublisher } from '../../shared/aws/eventBus.js';
import { evaluateSignal } from '../../shared/monitoring/alerts.js';
import { signalOf } from '../../shared/monitoring/alertSignals.js';
import { taskHandler } from '../../shared/platform/taskHandler.js';

const deps = { store: dynamoAlertStore(), deliveries: sqsAlertDeliveryQueue(), events: eventBusPublisher() };

/**
 * The bus's anomaly, drift and pipeline events against the tenant's alert rules. The event's time
 * is the alert's: EventBridge and Lambda retry with the same event, so a retry claims the same alert.
 */
export const handler = taskHandler(async (event: EventBridgeEvent<string, unknown>) => {
  const signal = signalOf(event['detail-type'], event.id, event.detail);
  return { outcomes: signal ? await evaluateSignal(deps, signal, new Date(event.time).toISOString()) : [] };
});
