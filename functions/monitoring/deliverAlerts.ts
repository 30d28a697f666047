import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { snsAlertNotifier, sqsAlertDeliveryQueue, ssmAlertSecrets } from '../../shared/aws/alertNotifications.js';
import { dynamoAlertStore } from '../../shared/aws/alertRepository.js';
import { eventBusPublisher } from '../../shared/aws/eventBus.js';
import { deliverQueued, fetchWebhookPost } from '../../shared/monitoring/alertDelivery.js';
import { readConfig } from '../../shared/platform/config.js';
import { queues } from '../../shared/platform/resources.js';
import { taskHandler } from '../../shared/platform/taskHandler.js';

const config = readConfig(
  z.object({
    /** First retry delay of a failed notification; each next one doubles. */
    ALERT_RETRY_BASE_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
    ALERT_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(20_000).default(5000),
  }),
);
const queue = sqsAlertDeliveryQueue();
const deps = { store: dynamoAlertStore(), secrets: ssmAlertSecrets(), notifier: snsAlertNotifier(), post: fetchWebhookPost(config.ALERT_WEBHOOK_TIMEOUT_MS), events: eventBusPublisher() };
const policy = { maxReceiveCount: queues.alertDeliveries.maxReceiveCount, baseSeconds: config.ALERT_RETRY_BASE_SECONDS, retryLater: queue.retryLater };

/**
 * Delivers alert notifications (webhooks over HTTPS, email and SMS through SNS). A failed one is
 * reported as a batch item failure after its visibility timeout is set to the backoff, so SQS
 * brings it back later, and after maxReceiveCount receives moves it to the dead-letter queue.
 */
export const handler = taskHandler(async (event: SQSEvent, context) =>
  processPartialResponse(
    event,
    (record: SQSRecord) => deliverQueued(deps, record, policy),
    // One processor an invocation: it holds the batch's records and failures (see storeReadings).
    new BatchProcessor(EventType.SQS),
    { context },
  ),
);
