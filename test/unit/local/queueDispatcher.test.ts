import { createHash } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalFunction } from '../../../local/lambdaRuntime.js';
import { FaultPlan } from '../../../local/faults.js';
import { QueueDispatcher } from '../../../local/queueDispatcher.js';

// Durations are scaled by 1/1000: a 30 s visibility timeout lasts 30 ms.
const timeScale = 0.001;
const queue = { declaration: { name: 'work', visibilityTimeoutSeconds: 30, maxReceiveCount: 3 }, physicalName: 'test-work' };

/** A test consumer that records each batch and answers with `respond`. */
function recordingFunction(respond: (event: SQSEvent) => SQSBatchResponse | void | Promise<SQSBatchResponse | void>) {
  const batches: SQSEvent[] = [];
  const fn: LocalFunction = {
    spec: { name: 'testConsumer', memoryMb: 128, timeoutSeconds: 5 },
    handler: async (event: never) => {
      batches.push(event as SQSEvent);
      return respond(event as SQSEvent);
    },
  };
  return { fn, batches };
}

async function until(condition: () => boolean, timeoutMs = 3_000) {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

let dispatcher: QueueDispatcher;
afterEach(() => dispatcher?.stop());

describe('queue dispatcher', () => {
  it('delivers in batches no larger than batchSize, gathered within the batching window', async () => {
    dispatcher = new QueueDispatcher([queue], { timeScale });
    const { fn, batches } = recordingFunction(() => undefined);
    dispatcher.subscribe('work', { fn, batchSize: 4, maxBatchingWindowSeconds: 20 });
    for (let i = 0; i < 10; i++) dispatcher.send('work', { body: `m${i}` });
    await until(() => dispatcher.idle());
    expect(batches.map((b) => b.Records.length)).toEqual([4, 4, 2]);
    expect(batches.flatMap((b) => b.Records.map((r) => r.body))).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
  });

  it('gives records the SQS event shape', async () => {
    dispatcher = new QueueDispatcher([queue], { timeScale });
    const { fn, batches } = recordingFunction(() => undefined);
    dispatcher.subscribe('work', { fn, batchSize: 10, maxBatchingWindowSeconds: 0 });
    const { messageId } = dispatcher.send('work', { body: '{"a":1}', messageAttributes: { kind: { dataType: 'String', stringValue: 'x', stringListValues: [], binaryListValues: [] } } });
    await until(() => dispatcher.idle());
    expect(batches[0].Records[0]).toMatchObject({
      messageId,
      receiptHandle: expect.any(String),
      body: '{"a":1}',
      md5OfBody: createHash('md5').update('{"a":1}').digest('hex'),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: expect.stringMatching(/^\d+$/) },
      messageAttributes: { kind: { dataType: 'String', stringValue: 'x' } },
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:test-work',
    });
  });

  it('retries only the batchItemFailures, after the visibility timeout', async () => {
    dispatcher = new QueueDispatcher([queue], { timeScale });
    let calls = 0;
    const { fn, batches } = recordingFunction((event) => {
      calls += 1;
      // The first delivery fails m1 and m3; the retry succeeds.
      if (calls === 1) return { batchItemFailures: event.Records.filter((r) => r.body === 'm1' || r.body === 'm3').map((r) => ({ itemIdentifier: r.messageId })) };
    });
    dispatcher.subscribe('work', { fn, batchSize: 5, maxBatchingWindowSeconds: 0 });
    for (let i = 0; i < 5; i++) dispatcher.send('work', { body: `m${i}` });
    await until(() => dispatcher.idle());
    expect(batches).toHaveLength(2);
    expect(batches[1].Records.map((r) => r.body)).toEqual(['m1', 'm3']);
    expect(batches[1].Records.map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['2', '2']);
    expect(dispatcher.deadLetters('work')).toEqual([]);
  });

  it('retries the whole batch when the handler throws', async () => {
    dispatcher = new QueueDispatcher([queue], { timeScale });
    let calls = 0;
    const { fn, batches } = recordingFunction(() => {
      calls += 1;
      if (calls === 1) throw new Error('boom');
    });
    dispatcher.subscribe('work', { fn, batchSize: 5, maxBatchingWindowSeconds: 0 });
    for (let i = 0; i < 3; i++) dispatcher.send('work', { body: `m${i}` });
    await until(() => dispatcher.idle());
    expect(batches.map((b) => b.Records.map((r) => r.body))).toEqual([
      ['m0', 'm1', 'm2'],
      ['m0', 'm1', 'm2'],
    ]);
  });

  it('fails the whole batch when a batchItemFailure names no message of it', async () => {
    dispatcher = new QueueDispatcher([queue], { timeScale });
    let calls = 0;
    const { fn, batches } = recordingFunction(() => (++calls === 1 ? { batchItemFailures: [{ itemIdentifier: '' }] } : undefined));
    dispatcher.subscribe('work', { fn, batchSize: 5, maxBatchingWindowSeconds: 0 });
    dispatcher.send('work', { body: 'a' });
    dispatcher.send('work', { body: 'b' });
    await until(() => dispatcher.idle());
    expect(batches[1].Records.map((r) => r.body)).toEqual(['a', 'b']);
  });

  it('moves a message to the dead-letter list after maxReceiveCount deliveries', async () => {
    dispatcher = new QueueDispatcher([queue], { timeScale });
    const { fn, batches } = recordingFunction((event) => ({
      batchItemFailures: event.Records.filter((r) => r.body === 'poison').map((r) => ({ itemIdentifier: r.messageId })),
    }));
    dispatcher.subscribe('work', { fn, batchSize: 10, maxBatchingWindowSeconds: 0 });
    dispatcher.send('work', { body: 'poison' });
    dispatcher.send('work', { body: 'fine' });
    await until(() => dispatcher.idle());
    const poisonDeliveries = batches.flatMap((b) => b.Records).filter((r) => r.body === 'poison');
    expect(poisonDeliveries.map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['1', '2', '3']);
    expect(batches.flatMap((b) => b.Records).filter((r) => r.body === 'fine')).toHaveLength(1);
    expect(dispatcher.deadLetters('work')).toEqual([expect.objectContaining({ body: 'poison', receiveCount: 3 })]);
  });

  it('holds a message invisible for the visibility timeout before redelivery', async () => {
    dispatcher = new QueueDispatcher([{ ...queue, declaration: { ...queue.declaration, visibilityTimeoutSeconds: 100 } }], { timeScale });
    const deliveredAt: number[] = [];
    const { fn } = recordingFunction(() => {
      deliveredAt.push(Date.now());
      if (deliveredAt.length === 1) throw new Error('retry me');
    });
    dispatcher.subscribe('work', { fn, batchSize: 1, maxBatchingWindowSeconds: 0 });
    dispatcher.send('work', { body: 'x' });
    await until(() => dispatcher.idle());
    expect(deliveredAt).toHaveLength(2);
    expect(deliveredAt[1] - deliveredAt[0]).toBeGreaterThanOrEqual(95);
  });
});

describe('queue dispatcher: visibility timeout of in-flight messages', () => {
  it('redelivers a message whose consumer is still running after the visibility timeout, with ApproximateReceiveCount raised', async () => {
    dispatcher = new QueueDispatcher([queue], { timeScale });
    const running: string[] = [];
    const overlapped: boolean[] = [];
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const { fn, batches } = recordingFunction(async (event) => {
      overlapped.push(running.length > 0);
      running.push(event.Records[0].messageId);
      // The first delivery outlives the 30 ms visibility timeout; the redelivery finishes at once.
      if (batches.length === 1) await slow;
      running.pop();
    });
    dispatcher.subscribe('work', { fn, batchSize: 1, maxBatchingWindowSeconds: 0 });
    dispatcher.send('work', { body: 'slow' });
    await until(() => batches.length === 2);
    expect(batches.map((b) => b.Records[0].attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
    expect(batches[1].Records[0].messageId).toBe(batches[0].Records[0].messageId);
    expect(overlapped).toEqual([false, true]);
    release();
    await until(() => dispatcher.idle());
    expect(dispatcher.deadLetters('work')).toEqual([]);
  });

  it('counts the message as in flight only until its visibility timeout ends', async () => {
    dispatcher = new QueueDispatcher([queue], { timeScale });
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const { fn, batches } = recordingFunction(() => slow);
    // One batch at a time: the redelivery waits, so the message shows visible again.
    dispatcher.subscribe('work', { fn, batchSize: 1, maxBatchingWindowSeconds: 0, maxConcurrency: 1 });
    dispatcher.send('work', { body: 'x' });
    await until(() => batches.length === 1);
    expect(dispatcher.stats('work')).toMatchObject({ pending: 1, inFlight: 1 });
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(dispatcher.stats('work')).toMatchObject({ pending: 1, inFlight: 0 });
    release();
    await until(() => dispatcher.idle());
    expect(batches).toHaveLength(1);
  });

  it('moves a message whose consumer never finishes within the timeout to the dead letters after maxReceiveCount receives', async () => {
    dispatcher = new QueueDispatcher([queue], { timeScale });
    let release!: () => void;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    const { fn, batches } = recordingFunction(() => stuck);
    dispatcher.subscribe('work', { fn, batchSize: 1, maxBatchingWindowSeconds: 0 });
    dispatcher.send('work', { body: 'stuck' });
    await until(() => dispatcher.deadLetters('work').length === 1);
    expect(batches.map((b) => b.Records[0].attributes.ApproximateReceiveCount)).toEqual(['1', '2', '3']);
    expect(dispatcher.deadLetters('work')).toEqual([expect.objectContaining({ body: 'stuck', receiveCount: 3 })]);
    release();
    await until(() => dispatcher.idle());
  });
});

describe('queue dispatcher: ChangeMessageVisibility', () => {
  it('keeps a received message invisible for the time given from now, and refuses a stale receipt handle', async () => {
    dispatcher = new QueueDispatcher([queue], { timeScale });
    const deliveredAt: number[] = [];
    const handles: string[] = [];
    const { fn } = recordingFunction((event) => {
      deliveredAt.push(Date.now());
      handles.push(event.Records[0].receiptHandle);
      // The first receive asks for 200 s (200 ms scaled) instead of the queue's 30, then fails.
      if (deliveredAt.length === 1) {
        expect(dispatcher.changeVisibility('work', event.Records[0].receiptHandle, 200)).toBe(true);
        throw new Error('later');
      }
    });
    dispatcher.subscribe('work', { fn, batchSize: 1, maxBatchingWindowSeconds: 0 });
    dispatcher.send('work', { body: 'x' });
    await until(() => dispatcher.idle());
    expect(deliveredAt).toHaveLength(2);
    expect(deliveredAt[1] - deliveredAt[0]).toBeGreaterThanOrEqual(190);
    expect(dispatcher.changeVisibility('work', handles[0], 1)).toBe(false);
  });

  it("holds a FIFO message's group for the time given to a failed message, then delivers it before the rest", async () => {
    // A 1,000 s visibility timeout: 1 s scaled.
    dispatcher = new QueueDispatcher([{ declaration: { ...queue.declaration, visibilityTimeoutSeconds: 1000, fifo: true }, physicalName: 'test-work.fifo' }], { timeScale });
    const received: { body: string; at: number }[] = [];
    const { fn } = recordingFunction((event) => {
      for (const r of event.Records) received.push({ body: r.body, at: Date.now() });
      const first = event.Records[0];
      if (first.body !== 'a0' || first.attributes.ApproximateReceiveCount !== '1') return;
      // Shortened to 0 after the batch ended: visible again at once, ahead of a1.
      setTimeout(() => dispatcher.changeVisibility('work', first.receiptHandle, 0), 5);
      return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
    });
    dispatcher.subscribe('work', { fn, batchSize: 1, maxBatchingWindowSeconds: 0 });
    const sentAt = Date.now();
    for (const body of ['a0', 'a1']) dispatcher.send('work', { body, messageGroupId: 'a', messageDeduplicationId: body });
    await until(() => dispatcher.idle());
    expect(received.map((r) => r.body)).toEqual(['a0', 'a0', 'a1']);
    // Well before the queue's visibility timeout would have let it come back.
    expect(received[1].at - sentAt).toBeLessThan(600);
  });
});

describe('queue dispatcher: injected faults', () => {
  it('delivers a message twice, with the same id, when a duplicate fault fires', async () => {
    const faults = new FaultPlan('sqs:work=duplicate#1');
    dispatcher = new QueueDispatcher([queue], { timeScale, faults });
    const { fn, batches } = recordingFunction(() => undefined);
    dispatcher.subscribe('work', { fn, batchSize: 1, maxBatchingWindowSeconds: 0 });
    dispatcher.send('work', { body: 'once' });
    dispatcher.send('work', { body: 'other' });
    await until(() => dispatcher.idle());
    const once = batches.flatMap((b) => b.Records).filter((r) => r.body === 'once');
    expect(once.map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
    expect(new Set(once.map((r) => r.messageId)).size).toBe(1);
    expect(batches.flatMap((b) => b.Records).filter((r) => r.body === 'other')).toHaveLength(1);
    expect(faults.injected('sqs')).toEqual([expect.objectContaining({ operation: 'work', kind: 'duplicate' })]);
  });

  it('holds a message back for the fault delay when a delay fault fires', async () => {
    dispatcher = new QueueDispatcher([queue], { timeScale, faults: new FaultPlan('sqs:work=delay:100#1') });
    const deliveredAt = new Map<string, number>();
    const { fn } = recordingFunction((event) => void event.Records.forEach((r) => deliveredAt.set(r.body, Date.now())));
    dispatcher.subscribe('work', { fn, batchSize: 1, maxBatchingWindowSeconds: 0 });
    const sentAt = Date.now();
    dispatcher.send('work', { body: 'late' });
    dispatcher.send('work', { body: 'on time' });
    await until(() => dispatcher.idle());
    expect(deliveredAt.get('late')! - sentAt).toBeGreaterThanOrEqual(95);
    expect(deliveredAt.get('on time')! - sentAt).toBeLessThan(50);
  });
});

describe('queue dispatcher: FIFO queues', () => {
  const fifoQueue = { declaration: { ...queue.declaration, fifo: true }, physicalName: 'test-work.fifo' };
  const sendTo = (group: string, body: string, deduplicationId = `${group}:${body}`) =>
    dispatcher.send('work', { body, messageGroupId: group, messageDeduplicationId: deduplicationId });
  /** A consumer that holds each batch `holdMs` and notes which groups run side by side. */
  function trackingFunction(holdMs: number, respond: (event: SQSEvent) => SQSBatchResponse | void = () => undefined) {
    const running = new Map<string, number>();
    let overlapWithinGroup = 0;
    let overlapAcrossGroups = 0;
    const recorded = recordingFunction(async (event) => {
      const groups = new Set(event.Records.map((r) => r.attributes.MessageGroupId!));
      for (const g of groups) if (running.get(g)) overlapWithinGroup += 1;
      if ([...running.values()].some((n) => n > 0)) overlapAcrossGroups += 1;
      for (const g of groups) running.set(g, (running.get(g) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, holdMs));
      for (const g of groups) running.set(g, running.get(g)! - 1);
      return respond(event);
    });
    return { ...recorded, overlaps: () => ({ overlapWithinGroup, overlapAcrossGroups }) };
  }
  const bodiesOf = (batches: SQSEvent[], group: string) => batches.flatMap((b) => b.Records.filter((r) => r.attributes.MessageGroupId === group).map((r) => r.body));

  it("delivers a group's messages in send order, one batch of a group at a time, while other groups run alongside", async () => {
    dispatcher = new QueueDispatcher([fifoQueue], { timeScale });
    const { fn, batches, overlaps } = trackingFunction(5);
    dispatcher.subscribe('work', { fn, batchSize: 2, maxBatchingWindowSeconds: 0 });
    for (let i = 0; i < 6; i++) for (const g of ['a', 'b', 'c']) sendTo(g, `${g}${i}`);
    await until(() => dispatcher.idle());
    for (const g of ['a', 'b', 'c']) expect(bodiesOf(batches, g)).toEqual(Array.from({ length: 6 }, (_, i) => `${g}${i}`));
    expect(overlaps().overlapWithinGroup).toBe(0);
    expect(overlaps().overlapAcrossGroups).toBeGreaterThan(0);
    expect(batches[0].Records[0].attributes).toMatchObject({ MessageGroupId: 'a', MessageDeduplicationId: 'a:a0', SequenceNumber: expect.stringMatching(/^\d{20}$/) });
  });

  it('holds the rest of a group until a failed message comes back after its visibility timeout, then delivers in order', async () => {
    dispatcher = new QueueDispatcher([fifoQueue], { timeScale });
    let failedOnce = false;
    // Fails a1 once, and (as Powertools' FIFO processor does) the rest of its group in the batch.
    const { fn, batches } = trackingFunction(1, (event) => {
      const index = event.Records.findIndex((r) => r.body === 'a1');
      if (index < 0 || failedOnce) return;
      failedOnce = true;
      return { batchItemFailures: event.Records.slice(index).filter((r) => r.attributes.MessageGroupId === 'a').map((r) => ({ itemIdentifier: r.messageId })) };
    });
    dispatcher.subscribe('work', { fn, batchSize: 2, maxBatchingWindowSeconds: 0 });
    for (let i = 0; i < 4; i++) for (const g of ['a', 'b']) sendTo(g, `${g}${i}`);
    await until(() => dispatcher.idle());
    expect(bodiesOf(batches, 'a')).toEqual(['a0', 'a1', 'a1', 'a2', 'a3']);
    expect(bodiesOf(batches, 'b')).toEqual(['b0', 'b1', 'b2', 'b3']);
  });

  it('drops a message sent again with the same deduplication id within 5 minutes, not after', async () => {
    // Scaled: 5 minutes last 300 ms.
    dispatcher = new QueueDispatcher([fifoQueue], { timeScale });
    const { fn, batches } = recordingFunction(() => undefined);
    dispatcher.subscribe('work', { fn, batchSize: 10, maxBatchingWindowSeconds: 0 });
    const first = sendTo('a', 'x', 'same');
    // Answered with the first message's id and this body's MD5 (what the SDK checks).
    expect(sendTo('a', 'x again', 'same')).toEqual({ messageId: first.messageId, md5OfBody: createHash('md5').update('x again').digest('hex') });
    await until(() => dispatcher.idle());
    expect(sendTo('a', 'x', 'same').messageId).toBe(first.messageId);
    await new Promise((resolve) => setTimeout(resolve, 320));
    sendTo('a', 'x later', 'same');
    await until(() => dispatcher.idle());
    expect(batches.flatMap((b) => b.Records.map((r) => r.body))).toEqual(['x', 'x later']);
  });

  it('delivers a duplicated message again before the rest of its group', async () => {
    const faults = new FaultPlan('sqs:work=duplicate#1');
    dispatcher = new QueueDispatcher([fifoQueue], { timeScale, faults });
    const { fn, batches, overlaps } = trackingFunction(2);
    dispatcher.subscribe('work', { fn, batchSize: 1, maxBatchingWindowSeconds: 0 });
    for (let i = 0; i < 3; i++) sendTo('a', `a${i}`);
    await until(() => dispatcher.idle());
    expect(bodiesOf(batches, 'a')).toEqual(['a0', 'a0', 'a1', 'a2']);
    expect(batches[1].Records[0].attributes.ApproximateReceiveCount).toBe('2');
    expect(overlaps().overlapWithinGroup).toBe(0);
    expect(faults.injected('sqs')).toHaveLength(1);
  });

  it("keeps a group's messages back while its batch runs past the scaled visibility timeout", async () => {
    // 30 ms visibility, 80 ms runs: on AWS the visibility timeout outlasts the function's timeout.
    dispatcher = new QueueDispatcher([fifoQueue], { timeScale });
    const { fn, batches, overlaps } = trackingFunction(80);
    dispatcher.subscribe('work', { fn, batchSize: 1, maxBatchingWindowSeconds: 0 });
    for (let i = 0; i < 3; i++) sendTo('a', `a${i}`);
    await until(() => dispatcher.idle());
    expect(bodiesOf(batches, 'a')).toEqual(['a0', 'a1', 'a2']);
    expect(overlaps().overlapWithinGroup).toBe(0);
  });

  it('fills a batch with as many messages of one group as it can before taking other groups, as SQS does', async () => {
    dispatcher = new QueueDispatcher([fifoQueue], { timeScale });
    const { fn, batches } = recordingFunction(() => undefined);
    dispatcher.subscribe('work', { fn, batchSize: 4, maxBatchingWindowSeconds: 0, maxConcurrency: 1 });
    for (let i = 0; i < 3; i++) for (const g of ['a', 'b', 'c']) sendTo(g, `${g}${i}`);
    await until(() => dispatcher.idle());
    expect(batches.map((b) => b.Records.map((r) => r.body))).toEqual([
      ['a0', 'a1', 'a2', 'b0'],
      // b waited behind its running batch, so c comes first now.
      ['c0', 'c1', 'c2', 'b1'],
      ['b2'],
    ]);
  });

  it('keeps every group in order through a large backlog with failures, losing nothing, and counts what it holds', async () => {
    // Enough receives that no message reaches the dead letters.
    dispatcher = new QueueDispatcher([{ ...fifoQueue, declaration: { ...fifoQueue.declaration, maxReceiveCount: 50 } }], { timeScale });
    let draw = 7;
    const processed = new Map<string, number[]>();
    // A seeded tenth of the records fail, with the rest of their group in the batch (as Powertools' FIFO processor does).
    dispatcher.subscribe('work', {
      fn: recordingFunction((event) => {
        const failedGroups = new Set<string>();
        const failures = event.Records.filter((r) => {
          draw = (draw * 48_271) % 2_147_483_647;
          const group = r.attributes.MessageGroupId!;
          if (failedGroups.has(group) || draw % 10 === 0) return failedGroups.add(group);
          processed.set(group, [...(processed.get(group) ?? []), Number(r.body)]);
          return false;
        });
        return { batchItemFailures: failures.map((r) => ({ itemIdentifier: r.messageId })) };
      }).fn,
      batchSize: 10,
      maxBatchingWindowSeconds: 0,
    });
    const groups = 200;
    const perGroup = 20;
    for (let i = 0; i < perGroup; i++) for (let g = 0; g < groups; g++) sendTo(`g${g}`, `${i}`);
    expect(dispatcher.stats('work')).toEqual({ pending: groups * perGroup, inFlight: 0, deadLetters: 0 });
    await until(() => dispatcher.idle(), 20_000);
    // Each group's messages were processed once each, in send order: none lost, none overtaken by a later one.
    expect(processed.size).toBe(groups);
    for (const bodies of processed.values()) expect(bodies).toEqual(Array.from({ length: perGroup }, (_, i) => i));
    expect(dispatcher.stats('work')).toEqual({ pending: 0, inFlight: 0, deadLetters: 0 });
  });

  it('refuses a message without a group or deduplication id', () => {
    dispatcher = new QueueDispatcher([fifoQueue], { timeScale });
    expect(() => dispatcher.send('work', { body: 'x', messageDeduplicationId: 'd' })).toThrow(/MessageGroupId/);
    expect(() => dispatcher.send('work', { body: 'x', messageGroupId: 'g' })).toThrow(/MessageDeduplicationId/);
  });
});
