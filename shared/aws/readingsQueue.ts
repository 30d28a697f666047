import { createHash } from 'node:crypto';
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

interface OutgoingMessage {
  body: string;
  /** The sensor: the queues are FIFO, and a sensor's messages must reach the writer and the scorer in order. */
  groupId: string;
  /** The same readings of the same sensor sent again within 5 minutes (a retried request, a redelivered forward) are dropped by SQS. */
  deduplicationId: string;
  /** The request's correlation id, also a message attribute: consumers log it before reading the body. */
  correlationId?: string;
}

/** A message under the limit: a message too large is split in two halves of its readings, as often as needed. */
export function outgoingMessages(message: ReadingsMessage): OutgoingMessage[] {
  const body = JSON.stringify(message);
  if (Buffer.byteLength(body) <= maxMessageBytes || message.readings.length < 2) {
    const deduplicationId = createHash('sha256').update(JSON.stringify([message.tenant, message.sensorId, message.readings])).digest('hex');
    return [{ body, groupId: `${message.tenant}#${message.sensorId}`, deduplicationId, correlationId: message.correlationId }];
  }
  const half = Math.ceil(message.readings.length / 2);
  return [...outgoingMessages({ ...message, readings: message.readings.slice(0, half) }), ...outgoingMessages({ ...message, readings: message.readings.slice(half) })];
}

/** SendMessageBatch requests of at most 10 entries and 256 KiB each; a group's messages keep their order. */
function batchesOf(messages: readonly OutgoingMessage[]): SendMessageBatchRequestEntry[][] {
  const batches: SendMessageBatchRequestEntry[][] = [];
  let current: SendMessageBatchRequestEntry[] = [];
  let bytes = 0;
  messages.forEach(({ body, groupId, deduplicationId, correlationId }, i) => {
    const size = Buffer.byteLength(body);
    if (current.length === maxEntries || (current.length > 0 && bytes + size > maxMessageBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push({
      Id: String(i),
      MessageBody: body,
      MessageGroupId: groupId,
      MessageDeduplicationId: deduplicationId,
      ...(correlationId ? { MessageAttributes: { correlationId: { DataType: 'String', StringValue: correlationId } } } : {}),
    });
    bytes += size;
  });
  if (current.length > 0) batches.push(current);
  return batches;
}

/** One SendMessageBatch; entries SQS refuses are sent again (twice), and what still fails is a retryable 503. */
async function sendBatch(queueUrl: string, batch: SendMessageBatchRequestEntry[]): Promise<void> {
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
}

/**
 * Sends readings messages to a FIFO queue with SendMessageBatch, one request after the other:
 * requests sent side by side could reorder a sensor's messages. What SQS will not take is a
 * retryable 503: the caller must not answer "queued".
 */
export function sqsReadingsQueue(queueUrl: string): ReadingsQueue {
  return {
    async send(messages) {
      const outgoing = messages.flatMap(outgoingMessages);
      for (const batch of batchesOf(outgoing)) await sendBatch(queueUrl, batch);
      return outgoing.length;
    },
  };
}
