import { SendMessageBatchCommand, SQSClient, type SendMessageBatchCommandInput, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { concurrentRequests, maxMessageBytes, sqsReadingsQueue } from '../../../shared/aws/readingsQueue.js';
import { DependencyError } from '../../../shared/platform/errors.js';
import type { ReadingsMessage } from '../../../shared/sensors/readingMessages.js';

const sqs = mockClient(SQSClient);
beforeAll(() => Object.assign(process.env, { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'test' }));
afterEach(() => sqs.reset());

const t0 = Date.UTC(2026, 0, 1);
const message = (sensorId: string, count: number, from = 0): ReadingsMessage => ({
  tenant: 'acme',
  sensorId,
  readings: Array.from({ length: count }, (_, i) => ({ timestamp: t0 + (from + i) * 1000, value: 1_000_000.123456 + i })),
});
const firstTimestampOf = (entry: SendMessageBatchRequestEntry) => (JSON.parse(entry.MessageBody!) as ReadingsMessage).readings[0].timestamp;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * SQS as a mock: `refuse` names entries to answer as Failed (by the first timestamp of their body);
 * every accepted entry is noted in arrival order, per group.
 */
function fakeQueue(refuse: (entry: SendMessageBatchRequestEntry, call: number) => boolean = () => false) {
  const accepted = new Map<string, number[]>();
  const requests: SendMessageBatchRequestEntry[][] = [];
  let running = 0;
  let mostAtOnce = 0;
  sqs.on(SendMessageBatchCommand).callsFake(async (input: SendMessageBatchCommandInput) => {
    const entries = input.Entries!;
    requests.push(entries);
    running += 1;
    mostAtOnce = Math.max(mostAtOnce, running);
    await pause(3);
    running -= 1;
    const failed = entries.filter((e) => refuse(e, requests.length));
    for (const e of entries) if (!failed.includes(e)) accepted.set(e.MessageGroupId!, [...(accepted.get(e.MessageGroupId!) ?? []), firstTimestampOf(e)]);
    return { Successful: entries.filter((e) => !failed.includes(e)).map((e) => ({ Id: e.Id!, MessageId: e.Id!, MD5OfMessageBody: '' })), Failed: failed.map((e) => ({ Id: e.Id!, SenderFault: false, Code: 'InternalError' })) };
  });
  return { accepted, requests, mostAtOnce: () => mostAtOnce };
}

describe('the SQS readings queue', () => {
  it('sends its SendMessageBatch requests side by side, a bounded number at once, and answers once all are in', async () => {
    const queue = fakeQueue();
    const sent = await sqsReadingsQueue('https://sqs/q.fifo').send(Array.from({ length: 200 }, (_, s) => message(`s${s}`, 10)));
    expect(sent).toBe(200);
    expect(queue.requests).toHaveLength(20);
    expect(queue.mostAtOnce()).toBe(concurrentRequests);
    expect(queue.accepted.size).toBe(200);
  });

  it("keeps a sensor's messages in order while requests go side by side and SQS refuses one of them once", async () => {
    // About 30 bytes a reading: 20,000 readings of one sensor split into several messages under 256 KiB.
    const big = message('big', 20_000);
    let refusedOnce = false;
    const queue = fakeQueue((entry) => {
      if (refusedOnce || entry.MessageGroupId !== 'acme#big') return false;
      return (refusedOnce = true);
    });
    const sent = await sqsReadingsQueue('https://sqs/q.fifo').send([big, ...Array.from({ length: 30 }, (_, s) => message(`s${s}`, 5))]);
    const parts = queue.accepted.get('acme#big')!;
    expect(sent).toBeGreaterThan(33);
    expect(parts.length).toBe(sent - 30);
    // The refused first part went in again before any later part of its sensor.
    expect(parts).toEqual([...parts].sort((a, b) => a - b));
    expect(parts[0]).toBe(t0);
    for (const request of queue.requests) {
      expect(request.reduce((n, e) => n + Buffer.byteLength(e.MessageBody!), 0)).toBeLessThanOrEqual(maxMessageBytes);
      expect(new Set(request.map((e) => e.MessageGroupId)).size).toBe(request.length);
    }
  });

  it('sends the message as its body, with a deduplication id of its sensor and readings only, so a retried request is dropped by SQS', async () => {
    const queue = fakeQueue();
    const first = { ...message('a', 3), correlationId: 'first' };
    await sqsReadingsQueue('https://sqs/q.fifo').send([first, message('b', 3)]);
    await sqsReadingsQueue('https://sqs/q.fifo').send([{ ...first, correlationId: 'retry' }]);
    const [[a, b], [again]] = queue.requests;
    expect(JSON.parse(a.MessageBody!)).toEqual(first);
    expect(a.MessageGroupId).toBe('acme#a');
    expect(again.MessageDeduplicationId).toBe(a.MessageDeduplicationId);
    expect(JSON.parse(again.MessageBody!)).toEqual({ ...first, correlationId: 'retry' });
    expect(b.MessageDeduplicationId).not.toBe(a.MessageDeduplicationId);
  });

  it('answers a retryable 503 when an entry is refused three times, and never sends a later message of its sensor', async () => {
    const big = message('big', 20_000);
    const queue = fakeQueue((entry) => entry.MessageGroupId === 'acme#big' && firstTimestampOf(entry) === t0);
    await expect(sqsReadingsQueue('https://sqs/q.fifo').send([big, message('small', 3)])).rejects.toBeInstanceOf(DependencyError);
    expect(queue.accepted.get('acme#big')).toBeUndefined();
  });
});
