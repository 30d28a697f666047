import { createHash } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { GroupScoringQueue } from '../sensors/scoring.js';
import { callAws } from './errors.js';
import { sqs } from './sqsClient.js';

/**
 * The FIFO group-scoring queue: one message group per sensor group (its scorer's state is one
 * item), and the same announcement sent again within five minutes (a retried scorer) dropped by SQS.
 */
export function sqsGroupScoringQueue(queueUrl: string): GroupScoringQueue {
  return {
    async send(message) {
      const body = JSON.stringify(message);
      await callAws('SQS', () =>
        sqs().send(
          new SendMessageCommand({
            QueueUrl: queueUrl,
            MessageBody: body,
            MessageGroupId: `${message.tenant}#${message.group}`,
            MessageDeduplicationId: createHash('sha256').update(JSON.stringify([message.tenant, message.sensorId, message.from, message.to])).digest('hex'),
          }),
        ),
      );
    },
  };
}
