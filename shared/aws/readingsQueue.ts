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

/** What the correlation id attribute adds to a message's size: SQS counts attributes (name, type, value) against the limit. */
const attributeBytes = (correlationId: string | undefined) => (correlationId === undefined ? 0 : 'correlationId'.length + 'String'.length + Buffer.byteLength(correlationId));

/** A message under the limit: a message too large is split in two halves of its readings, as often as needed. */
export function outgoingMessages(message: ReadingsMessage): OutgoingMessage[] {
  const { tenant, sensorId, readings, correlationId } = message;
  // One serialization makes both the body and the deduplication id, which leaves the correlation id out (a retried request has its own).
  const content = JSON.stringify({ tenant, sensorId, readings });
  const body = correlationId === undefined ? content : `${content.slice(0, -1)},"correlationId":${JSON.stringify(correlationId)}}`;
  if (Buffer.byteLength(body) + attributeBytes(correlationId) <= maxMessageBytes || readings.length < 2) {
    return [{ body, groupId: `${tenant}#${sensorId}`, deduplicationId: createHash('sha256').update(content).digest('hex'), correlationId }];
  }
  const half = Math.ceil(readings.length / 2);
  return [...outgoingMessages({ ...message, readings: readings.slice(0, half) }), ...outgoingMessages({ ...message, readings: readings.slice(half) })];
}

/** A SendMessageBatch request, and the earlier requests that carry earlier messages of its groups. */
interface PlannedBatch {
  entries: SendMessageBatchRequestEntry[];
  bytes: number;
  after: Set<number>;
}

/**
 * SendMessageBatch requests of at most 10 entries and 256 KiB each, with at most one message of a
 * group per request: a group's next message goes in a later request, sent once the earlier one is
 * in. So a partial failure (an entry refused, sent again) can never let a later message of its
 * group in first, and requests with no group in common can go side by side.
 */
function plannedBatches(messages: readonly OutgoingMessage[]): PlannedBatch[] {
  const batches: PlannedBatch[] = [];
  const lastBatchOf = new Map<string, number>();
  // Requests before this one all hold 10 entries: the search for room starts here.
  let firstOpen = 0;
  messages.forEach(({ body, groupId, deduplicationId, correlationId }, i) => {
    const size = Buffer.byteLength(body) + attributeBytes(correlationId);
    const previous = lastBatchOf.get(groupId) ?? -1;
    let index = Math.max(firstOpen, previous + 1);
    while (index < batches.length && (batches[index].entries.length === maxEntries || batches[index].bytes + size > maxMessageBytes)) index++;
    if (index === batches.length) batches.push({ entries: [], bytes: 0, after: new Set() });
    const batch = batches[index];
    batch.entries.push({
      Id: String(i),
      MessageBody: body,
      MessageGroupId: groupId,
      MessageDeduplicationId: deduplicationId,
      ...(correlationId ? { MessageAttributes: { correlationId: { DataType: 'String', StringValue: correlationId } } } : {}),
    });
    batch.bytes += size;
    if (previous >= 0) batch.after.add(previous);
    lastBatchOf.set(groupId, index);
    while (firstOpen < batches.length && batches[firstOpen].entries.length === maxEntries) firstOpen++;
  });
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

/** SendMessageBatch requests in flight at once per call: a 1,000-reading request of 100 sensors is 10 of them. */
export const concurrentRequests = 8;

/**
 * Sends readings messages to a FIFO queue with SendMessageBatch, up to `concurrentRequests` requests
 * side by side; a request waits for those holding earlier messages of its groups, so a sensor's
 * messages are queued in order. What SQS will not take is a retryable 503, once no request is in
 * flight (none is started after one failed): the caller must not answer "queued".
 */
export function sqsReadingsQueue(queueUrl: string): ReadingsQueue {
  return {
    async send(messages) {
      const outgoing = messages.flatMap(outgoingMessages);
      const batches = plannedBatches(outgoing);
      const sent: Promise<void>[] = [];
      let next = 0;
      let failed = false;
      const worker = async () => {
        while (next < batches.length && !failed) {
          const k = next++;
          sent[k] = Promise.all([...batches[k].after].map((i) => sent[i])).then(() => sendBatch(queueUrl, batches[k].entries));
          await sent[k].catch((error: unknown) => {
            failed = true;
            throw error;
          });
        }
      };
      const workers = await Promise.allSettled(Array.from({ length: Math.min(concurrentRequests, batches.length) }, worker));
      const rejected = workers.find((w) => w.status === 'rejected');
      if (rejected) throw rejected.reason;
      return outgoing.length;
    },
  };
}
