import { createHash } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import type { QueueDeclaration } from '../shared/platform/resources.js';
import { invokeFunction, localAccount, localRegion, type LocalFunction } from './lambdaRuntime.js';

/** A queue as the dispatcher runs it: its declaration and physical name. */
export interface LocalQueue {
  declaration: Pick<QueueDeclaration, 'name' | 'visibilityTimeoutSeconds' | 'maxReceiveCount'>;
  physicalName: string;
}

/** An event source mapping: a function reading a queue in batches. */
export interface QueueSubscription {
  fn: LocalFunction;
  batchSize: number;
  maxBatchingWindowSeconds: number;
}

export interface OutgoingMessage {
  body: string;
  messageAttributes?: SQSMessageAttributes;
  delaySeconds?: number;
}

interface StoredMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  messageAttributes: SQSMessageAttributes;
  sentTimestamp: number;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  visibleAt: number;
  inFlight: boolean;
}

/** A message that went to the dead-letter queue after maxReceiveCount deliveries. */
export interface DeadLetter {
  messageId: string;
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
  busy: boolean;
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
}

export interface QueueDispatcherOptions {
  /** Multiplies every queue duration (visibility timeout, batching window, delay); tests use a small one. */
  timeScale?: number;
  /** Told about each failed batch (a thrown error or batchItemFailures). */
  onBatchFailure?: (queue: string, fn: string, failedIds: string[], error?: unknown) => void;
}

export const md5Hex = (text: string | Buffer) => createHash('md5').update(text).digest('hex');

/**
 * SQS queues and Lambda event source mappings in process, with the semantics handlers rely on:
 * batches up to batchSize gathered for up to the batching window; a thrown error leaves the
 * whole batch to come back after the visibility timeout; `batchItemFailures` leaves only those;
 * after maxReceiveCount deliveries a message moves to the dead-letter list. Each consumer
 * processes one batch at a time; several consumers of a queue compete for its messages.
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
    this.state(queueName).consumers.push({ ...subscription, busy: false });
  }

  send(queueName: string, message: OutgoingMessage): { messageId: string; md5OfBody: string } {
    const queue = this.state(queueName);
    const now = Date.now();
    const stored: StoredMessage = {
      messageId: crypto.randomUUID(),
      body: message.body,
      md5OfBody: md5Hex(message.body),
      messageAttributes: message.messageAttributes ?? {},
      sentTimestamp: now,
      receiveCount: 0,
      visibleAt: now + (message.delaySeconds ?? 0) * 1000 * this.scale,
      inFlight: false,
    };
    queue.messages.push(stored);
    this.schedulePump(queue);
    return { messageId: stored.messageId, md5OfBody: stored.md5OfBody };
  }

  deadLetters(queueName: string): DeadLetter[] {
    return [...this.state(queueName).deadLetters];
  }

  /** Moves a queue's dead letters back onto it, oldest first, as SQS's StartMessageMoveTask does; answers how many. */
  redrive(queueName: string): number {
    const moved = this.state(queueName).deadLetters.splice(0);
    for (const m of moved) this.send(queueName, { body: m.body, messageAttributes: m.messageAttributes });
    return moved.length;
  }

  stats(queueName: string): QueueStats {
    const queue = this.state(queueName);
    return { pending: queue.messages.length, inFlight: queue.messages.filter((m) => m.inFlight).length, deadLetters: queue.deadLetters.length };
  }

  /** True when no queue holds a message (dead letters aside). */
  idle(): boolean {
    return [...this.queues.values()].every((q) => q.messages.length === 0);
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
    // Messages received maxReceiveCount times and visible again go to the dead-letter list.
    queue.messages = queue.messages.filter((m) => {
      if (m.inFlight || m.visibleAt > now || m.receiveCount < queue.declaration.maxReceiveCount) return true;
      queue.deadLetters.push({ messageId: m.messageId, body: m.body, messageAttributes: m.messageAttributes, receiveCount: m.receiveCount, sentTimestamp: m.sentTimestamp });
      return false;
    });
    let wakeAt = Number.POSITIVE_INFINITY;
    for (let turn = 0; turn < queue.consumers.length; turn++) {
      const consumer = queue.consumers[(queue.nextConsumer + turn) % queue.consumers.length];
      if (consumer.busy) continue;
      const visible = queue.messages.filter((m) => !m.inFlight && m.visibleAt <= now);
      if (visible.length === 0) break;
      if (visible.length < consumer.batchSize && consumer.maxBatchingWindowSeconds > 0) {
        consumer.windowStartedAt ??= now;
        const windowEnds = consumer.windowStartedAt + consumer.maxBatchingWindowSeconds * 1000 * this.scale;
        if (windowEnds > now) {
          wakeAt = Math.min(wakeAt, windowEnds);
          continue;
        }
      }
      consumer.windowStartedAt = undefined;
      queue.nextConsumer = (queue.nextConsumer + turn + 1) % queue.consumers.length;
      this.deliver(queue, consumer, visible.slice(0, consumer.batchSize), now);
    }
    for (const m of queue.messages) if (!m.inFlight && m.visibleAt > now) wakeAt = Math.min(wakeAt, m.visibleAt);
    this.wakeAt(queue, wakeAt);
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
    consumer.busy = true;
    for (const m of batch) {
      m.inFlight = true;
      m.receiveCount += 1;
      m.firstReceiveTimestamp ??= now;
      m.visibleAt = now + queue.declaration.visibilityTimeoutSeconds * 1000 * this.scale;
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
        consumer.busy = false;
        for (const m of batch) m.inFlight = false;
        queue.messages = queue.messages.filter((m) => !batch.includes(m) || failed.has(m.messageId));
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
      },
      messageAttributes: m.messageAttributes,
      md5OfBody: m.md5OfBody,
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: localRegion,
    };
  }
}
