import { SendMessageBatchCommand, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { DependencyError } from '../platform/errors.js';
import type { ReadingsMessage } from '../sensors/readingMessages.js';
import type { ReadingsQueue } from '../sensors/ingest.js';
import { translateAwsError } from './errors.js';
import { sqs } from './sqsClient.js';

/** SQS's classic message and batch-request limit; staying under it works on every queue and emulator. */
export const maxMessageBytes = 262_144;
const maxEntries = 10;
const attempts = 3;

/** A message body under the limit: a message too large is split in two halves of its readings, as often as needed. */
export function messageBodies(message: ReadingsMessage): string[] {
  const body = JSON.stringify(message);
  if (Buffer.byteLength(body) <= maxMessageBytes || message.readings.length < 2) return [body];
  const half = Math.ceil(message.readings.length / 2);
  return [...messageBodies({ ...message, readings: message.readings.slice(0, half) }), ...messageBodies({ ...message, readings: message.readings.slice(half) })];
}

/** SendMessageBatch requests of at most 10 entries and 256 KiB each. */
function batchesOf(bodies: readonly string[]): SendMessageBatchRequestEntry[][] {
  const batches: SendMessageBatchRequestEntry[][] = [];
  let current: SendMessageBatchRequestEntry[] = [];
  let bytes = 0;
  bodies.forEach((body, i) => {
    const size = Buffer.byteLength(body);
    if (current.length === maxEntries || (current.length > 0 && bytes + size > maxMessageBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push({ Id: String(i), MessageBody: body });
    bytes += size;
  });
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Sends readings messages to a queue with SendMessageBatch; entries SQS refuses are sent again
 * (twice), and what still fails is a retryable 503: the caller must not answer "queued".
 */
export function sqsReadingsQueue(queueUrl: string): ReadingsQueue {
  return {
    async send(messages) {
      const bodies = messages.flatMap(messageBodies);
      await Promise.all(
        batchesOf(bodies).map(async (batch) => {
          let pending = batch;
          for (let attempt = 1; pending.length > 0; attempt++) {
            let failedIds: Set<string>;
            try {
              const out = await sqs().send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }));
              failedIds = new Set((out.Failed ?? []).map((f) => f.Id ?? ''));
            } catch (error) {
              const translated = translateAwsError('SQS', error);
              if (!(translated instanceof DependencyError) || attempt >= attempts) throw translated;
              continue;
            }
            pending = pending.filter((entry) => failedIds.has(entry.Id!));
            if (pending.length > 0 && attempt >= attempts) throw new DependencyError(`SQS refused ${pending.length} message(s); retry later.`);
          }
        }),
      );
      return bodies.length;
    },
  };
}
