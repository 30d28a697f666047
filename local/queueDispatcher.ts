import { createHash } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { fifoDeduplicationWindowSeconds, type QueueDeclaration } from '../shared/platform/resources.js';
import type { FaultPlan } from './faults.js';
import { invokeFunction, localAccount, localRegion, type LocalFunction } from './lambdaRuntime.js';

/** A queue as the dispatcher runs it: its declaration and physical name. */
export interface LocalQueue {
  declaration: Pick<QueueDeclaration, 'name' | 'visibilityTimeoutSeconds' | 'maxReceiveCount'> & Partial<Pick<QueueDeclaration, 'fifo'>>;
  physicalName: string;
}

/** An event source mapping: a function reading a queue in batches. */
export interface QueueSubscription {
  fn: LocalFunction;
  batchSize: number;
  maxBatchingWindowSeconds: number;
  /** Batches this consumer processes at once (Lambda's pollers run several). Default 5, as Lambda starts with. */
  maxConcurrency?: number;
}

export interface OutgoingMessage {
  body: string;
  messageAttributes?: SQSMessageAttributes;
  delaySeconds?: number;
  /** FIFO queues: the group whose messages go in order, and the id a resend within 5 minutes is dropped by. */
  messageGroupId?: string;
  messageDeduplicationId?: string;
}

interface StoredMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  messageAttributes: SQSMessageAttributes;
  sentTimestamp: number;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  /** Invisible until then: delayed when sent, or received and not yet deleted. */
  visibleAt: number;
  messageGroupId?: string;
  messageDeduplicationId?: string;
  sequenceNumber?: string;
  /** FIFO: a duplicate delivery fault keeps the message after its batch succeeds, to be delivered again in order. */
  redeliver?: boolean;
  /** Batches holding this message that are still running. */
  running?: number;
}

/** A message that went to the dead-letter queue after maxReceiveCount deliveries. */
export interface DeadLetter {
  messageId: string;
  messageGroupId?: string;
  messageDeduplicationId?: string;
  body: string;
  messageAttributes: SQSMessageAttributes;
  receiveCount: number;
  sentTimestamp: number;
}

export interface QueueStats {
  /** Messages waiting, visible or not, including those being processed. */
  pending: number;
  inFlight: number;
  deadLetters: number;
}

interface Consumer extends QueueSubscription {
  running: number;
  /** When this consumer started waiting for a fuller batch. */
  windowStartedAt?: number;
}

interface QueueState extends LocalQueue {
  arn: string;
  messages: StoredMessage[];
  deadLetters: DeadLetter[];
  consumers: Consumer[];
  nextConsumer: number;
  timer?: NodeJS.Timeout;
  timerAt?: number;
  pumpScheduled?: boolean;
  /** Invocations of its consumers still running. */
  running: number;
  /** FIFO: deduplication ids sent lately, with when each stops counting. */
  deduplication: Map<string, { messageId: string; until: number }>;
  sequence: bigint;
}

export interface QueueDispatcherOptions {
  /** Multiplies every queue duration (visibility timeout, batching window, delay); tests use a small one. */
  timeScale?: number;
  /** Told about each failed batch (a thrown error or batchItemFailures). */
  onBatchFailure?: (queue: string, fn: string, failedIds: string[], error?: unknown) => void;
  /** Duplicate and delayed deliveries (`sqs:<queue>=duplicate|delay`). */
  faults?: FaultPlan;
}

/** Lambda's event source mapping starts with five concurrent batches per queue. */
const defaultConcurrency = 5;
/** Seconds a `delay` fault holds a message back when the rule gives none. */
const defaultFaultDelaySeconds = 10;

/** Received and not yet visible again. */
const isInFlight = (m: StoredMessage, now: number) => m.receiveCount > 0 && m.visibleAt > now;

export const md5Hex = (text: string | Buffer) => createHash('md5').update(text).digest('hex');

/**
 * SQS queues and Lambda event source mappings in process, with the semantics handlers rely on:
 * batches up to batchSize gathered for up to the batching window; a received message stays
 * invisible for the queue's visibility timeout and comes back, with its receive count raised,
 * unless it was deleted by then: when its batch succeeded, or was not named in
 * `batchItemFailures`. So a thrown error leaves the whole batch to come back, and a consumer
 * slower than the visibility timeout sees its message again while it still works on it, as on
 * SQS. A message received maxReceiveCount times that comes back moves to the dead-letter list.
 * Each consumer runs up to maxConcurrency batches at once; several consumers compete.
 */
export class QueueDispatcher {
  private readonly queues = new Map<string, QueueState>();
  private readonly scale: number;
  private stopped = false;

  constructor(
    queues: readonly LocalQueue[],
    private readonly options: QueueDispatcherOptions = {},
  ) {
    this.scale = options.timeScale ?? 1;
    for (const queue of queues) {
      this.queues.set(queue.declaration.name, {
        ...queue,
        arn: `arn:aws:sqs:${localRegion}:${localAccount}:${queue.physicalName}`,
        messages: [],
        deadLetters: [],
        consumers: [],
        nextConsumer: 0,
        running: 0,
        deduplication: new Map(),
        sequence: 0n,
      });
    }
  }

  /** The queue with this logical or physical name. */
  queue(name: string): LocalQueue | undefined {
    return this.state(name, false);
  }

  private state(name: string, required = true): QueueState {
    const found = this.queues.get(name) ?? [...this.queues.values()].find((q) => q.physicalName === name);
    if (!found && required) throw new Error(`No queue "${name}"`);
    return found as QueueState;
  }

  subscribe(queueName: string, subscription: QueueSubscription): void {
    this.state(queueName).consumers.push({ ...subscription, running: 0 });
  }

  send(queueName: string, message: OutgoingMessage): { messageId: string; md5OfBody: string; sequenceNumber?: string } {
    const queue = this.state(queueName);
    const now = Date.now();
    const fifo = queue.declaration.fifo === true;
    if (fifo) {
      if (!message.messageGroupId) throw new Error(`FIFO queue ${queue.physicalName} needs a MessageGroupId`);
      if (!message.messageDeduplicationId) throw new Error(`FIFO queue ${queue.physicalName} needs a MessageDeduplicationId (content-based deduplication is off)`);
      for (const [id, seen] of queue.deduplication) if (seen.until <= now) queue.deduplication.delete(id);
      // SQS accepts a resend within the window (answering the first's id and the MD5 of this body), but delivers nothing new.
      const seen = queue.deduplication.get(message.messageDeduplicationId);
      if (seen) return { messageId: seen.messageId, md5OfBody: md5Hex(message.body) };
    }
    const delayFault = this.options.faults?.draw('sqs', queue.declaration.name, (kind) => kind === 'delay');
    const faultDelaySeconds = delayFault ? (delayFault.argument ?? defaultFaultDelaySeconds) : 0;
    const stored: StoredMessage = {
      messageId: crypto.randomUUID(),
      body: message.body,
      md5OfBody: md5Hex(message.body),
      messageAttributes: message.messageAttributes ?? {},
      sentTimestamp: now,
      receiveCount: 0,
      visibleAt: now + ((message.delaySeconds ?? 0) + faultDelaySeconds) * 1000 * this.scale,
    };
    if (fifo) {
      queue.sequence += 1n;
      Object.assign(stored, { messageGroupId: message.messageGroupId, messageDeduplicationId: message.messageDeduplicationId, sequenceNumber: String(queue.sequence).padStart(20, '0') });
      queue.deduplication.set(message.messageDeduplicationId!, { messageId: stored.messageId, until: now + fifoDeduplicationWindowSeconds * 1000 * this.scale });
    }
    queue.messages.push(stored);
    this.schedulePump(queue);
    return { messageId: stored.messageId, md5OfBody: stored.md5OfBody, sequenceNumber: stored.sequenceNumber };
  }

  /**
   * SQS's ChangeMessageVisibility: the received message this receipt handle names stays invisible
   * `seconds` (scaled) from now. False when the handle is stale (deleted, or received again since).
   */
  changeVisibility(queueName: string, receiptHandle: string, seconds: number): boolean {
    const [messageId, receiveCount] = Buffer.from(receiptHandle, 'base64').toString('utf8').split('#');
    const message = this.state(queueName).messages.find((m) => m.messageId === messageId && String(m.receiveCount) === receiveCount);
    if (!message) return false;
    message.visibleAt = Date.now() + seconds * 1000 * this.scale;
    this.wakeAt(this.state(queueName), message.visibleAt);
    return true;
  }

  deadLetters(queueName: string): DeadLetter[] {
    return [...this.state(queueName).deadLetters];
  }

  /** Moves a queue's dead letters back onto it, oldest first, as SQS's StartMessageMoveTask does; answers how many. */
  redrive(queueName: string): number {
    const moved = this.state(queueName).deadLetters.splice(0);
    for (const m of moved) {
      // A redriven FIFO message keeps its group and gets a fresh deduplication id: its first one is still remembered.
      const fifo = m.messageGroupId ? { messageGroupId: m.messageGroupId, messageDeduplicationId: `${m.messageDeduplicationId}#redrive-${crypto.randomUUID()}` } : {};
      this.send(queueName, { body: m.body, messageAttributes: m.messageAttributes, ...fifo });
    }
    return moved.length;
  }

  stats(queueName: string): QueueStats {
    const queue = this.state(queueName);
    const now = Date.now();
    return { pending: queue.messages.length, inFlight: queue.messages.filter((m) => isInFlight(m, now)).length, deadLetters: queue.deadLetters.length };
  }

  /** True when no queue holds a message (dead letters aside) and no consumer is still running. */
  idle(): boolean {
    return [...this.queues.values()].every((q) => q.messages.length === 0 && q.running === 0);
  }

  stop(): void {
    this.stopped = true;
    for (const queue of this.queues.values()) clearTimeout(queue.timer);
  }

  /** Pumps on the next turn, like a poller: messages sent together can share a batch. */
  private schedulePump(queue: QueueState): void {
    if (queue.pumpScheduled) return;
    queue.pumpScheduled = true;
    setImmediate(() => {
      queue.pumpScheduled = false;
      this.pump(queue);
    });
  }

  private pump(queue: QueueState): void {
    if (this.stopped || queue.consumers.length === 0) return;
    const now = Date.now();
    // A message received maxReceiveCount times that becomes visible again goes to the dead-letter list.
    queue.messages = queue.messages.filter((m) => {
      if (m.visibleAt > now || m.receiveCount < queue.declaration.maxReceiveCount) return true;
      queue.deadLetters.push({ messageId: m.messageId, messageGroupId: m.messageGroupId, messageDeduplicationId: m.messageDeduplicationId, body: m.body, messageAttributes: m.messageAttributes, receiveCount: m.receiveCount, sentTimestamp: m.sentTimestamp });
      return false;
    });
    let wakeAt = Number.POSITIVE_INFINITY;
    // Round robin over the consumers with room, one batch per turn, until nothing visible is left to give.
    for (let idleTurns = 0; idleTurns < queue.consumers.length; ) {
      const index = queue.nextConsumer;
      const consumer = queue.consumers[index];
      queue.nextConsumer = (index + 1) % queue.consumers.length;
      const visible = this.deliverable(queue, now);
      if (visible.length === 0) break;
      if (consumer.running >= (consumer.maxConcurrency ?? defaultConcurrency)) {
        idleTurns += 1;
        continue;
      }
      if (visible.length < consumer.batchSize && consumer.maxBatchingWindowSeconds > 0) {
        consumer.windowStartedAt ??= now;
        const windowEnds = consumer.windowStartedAt + consumer.maxBatchingWindowSeconds * 1000 * this.scale;
        if (windowEnds > now) {
          wakeAt = Math.min(wakeAt, windowEnds);
          idleTurns += 1;
          continue;
        }
      }
      consumer.windowStartedAt = undefined;
      idleTurns = 0;
      this.deliver(queue, consumer, visible.slice(0, consumer.batchSize), now);
    }
    // Wake for delayed messages and for those whose visibility timeout ends (received, not deleted).
    for (const m of queue.messages) if (m.visibleAt > now) wakeAt = Math.min(wakeAt, m.visibleAt);
    this.wakeAt(queue, wakeAt);
  }

  /**
   * What a poller may receive now. A standard queue gives every visible message. A FIFO queue gives,
   * for each group, its oldest messages up to the first one that is not visible: a group with a
   * message in flight (or delayed) gives nothing, so its messages go one batch at a time, in send order.
   * A FIFO message also holds its group while its batch still runs past the (scaled) visibility
   * timeout: on AWS the timeout is at least six times the consumer's, so a run ends (or is stopped at
   * its timeout) before the message is visible again; here durations are scaled and runs are not.
   */
  private deliverable(queue: QueueState, now: number): StoredMessage[] {
    if (!queue.declaration.fifo) return queue.messages.filter((m) => m.visibleAt <= now);
    const blocked = new Set<string | undefined>();
    const result: StoredMessage[] = [];
    for (const m of queue.messages) {
      if (blocked.has(m.messageGroupId)) continue;
      if (m.visibleAt <= now && !m.running) result.push(m);
      else blocked.add(m.messageGroupId);
    }
    return result;
  }

  private wakeAt(queue: QueueState, at: number): void {
    if (!Number.isFinite(at) || (queue.timer && queue.timerAt !== undefined && queue.timerAt <= at)) return;
    clearTimeout(queue.timer);
    queue.timerAt = at;
    queue.timer = setTimeout(() => {
      queue.timer = undefined;
      queue.timerAt = undefined;
      this.pump(queue);
    }, Math.max(0, at - Date.now()));
  }

  private deliver(queue: QueueState, consumer: Consumer, batch: StoredMessage[], now: number): void {
    consumer.running += 1;
    queue.running += 1;
    for (const m of batch) {
      m.running = (m.running ?? 0) + 1;
      m.receiveCount += 1;
      m.firstReceiveTimestamp ??= now;
      // At-least-once delivery: a duplicate fault leaves the message visible, so it is received again at
      // once; on a FIFO queue it is kept after its batch instead, and comes again before the rest of its group.
      const duplicated = this.options.faults?.draw('sqs', queue.declaration.name, (kind) => kind === 'duplicate');
      if (duplicated && queue.declaration.fifo) m.redeliver = true;
      m.visibleAt = duplicated && !queue.declaration.fifo ? now : now + queue.declaration.visibilityTimeoutSeconds * 1000 * this.scale;
    }
    const event: SQSEvent = { Records: batch.map((m) => this.record(queue, m)) };
    invokeFunction(consumer.fn, event)
      .then(
        (result) => {
          const failures = (result as SQSBatchResponse | undefined)?.batchItemFailures ?? [];
          const ids = new Set(batch.map((m) => m.messageId));
          // An unknown or empty identifier fails the whole batch, as Lambda does.
          if (failures.some((f) => !ids.has(f.itemIdentifier))) return { failed: ids };
          return { failed: new Set(failures.map((f) => f.itemIdentifier)) };
        },
        (error: unknown) => ({ failed: new Set(batch.map((m) => m.messageId)), error }),
      )
      .then(({ failed, error }: { failed: Set<string>; error?: unknown }) => {
        consumer.running -= 1;
        queue.running -= 1;
        for (const m of batch) m.running! -= 1;
        // The poller deletes what succeeded, even if it was received again meanwhile (as a
        // DeleteMessage with an older receipt handle usually does); failed messages stay
        // invisible until their visibility timeout ends.
        queue.messages = queue.messages.filter((m) => !batch.includes(m) || failed.has(m.messageId) || m.redeliver);
        for (const m of batch.filter((m) => m.redeliver)) {
          m.redeliver = false;
          if (!failed.has(m.messageId)) m.visibleAt = Date.now();
        }
        if (failed.size > 0) this.options.onBatchFailure?.(queue.declaration.name, consumer.fn.spec.name, [...failed], error);
        this.pump(queue);
      });
  }

  private record(queue: QueueState, m: StoredMessage): SQSRecord {
    return {
      messageId: m.messageId,
      receiptHandle: Buffer.from(`${m.messageId}#${m.receiveCount}`).toString('base64'),
      body: m.body,
      attributes: {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(m.sentTimestamp),
        SenderId: localAccount,
        ApproximateFirstReceiveTimestamp: String(m.firstReceiveTimestamp ?? m.sentTimestamp),
        ...(m.messageGroupId ? { MessageGroupId: m.messageGroupId, MessageDeduplicationId: m.messageDeduplicationId, SequenceNumber: m.sequenceNumber } : {}),
      },
      messageAttributes: m.messageAttributes,
      md5OfBody: m.md5OfBody,
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: localRegion,
    };
  }
}
