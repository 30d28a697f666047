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
  /**
   * Messages by group, each list in send order. A FIFO queue's groups are its message groups; on a
   * standard queue every message is a group of its own (its id), so both kinds share one delivery path.
   */
  groups: Map<string, StoredMessage[]>;
  /** Groups whose first message is visible and not held by a running batch, oldest first: what a poller takes. */
  ready: Set<string>;
  /** Groups whose first message is not visible yet (delayed, or received and not deleted), with when it will be. */
  sleeping: Map<string, number>;
  /** Messages held, visible or not, in flight or not. */
  size: number;
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
 * Messages are kept per group with a list of the groups ready to give, so a delivery costs the size
 * of its batch, not of the backlog.
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
        groups: new Map(),
        ready: new Set(),
        sleeping: new Map(),
        size: 0,
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
      // Ids are remembered in send order with the same window, so the expired ones are the first few.
      for (const [id, seen] of queue.deduplication) {
        if (seen.until > now) break;
        queue.deduplication.delete(id);
      }
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
    // A FIFO message waits behind its group's earlier ones; a standard one is a group of its own.
    const key = fifo ? message.messageGroupId! : stored.messageId;
    const group = queue.groups.get(key);
    queue.size += 1;
    if (group) group.push(stored);
    else {
      queue.groups.set(key, [stored]);
      this.park(queue, key, now);
    }
    this.schedulePump(queue);
    return { messageId: stored.messageId, md5OfBody: stored.md5OfBody, sequenceNumber: stored.sequenceNumber };
  }

  /**
   * SQS's ChangeMessageVisibility: the received message this receipt handle names stays invisible
   * `seconds` (scaled) from now. False when the handle is stale (deleted, or received again since).
   */
  changeVisibility(queueName: string, receiptHandle: string, seconds: number): boolean {
    const queue = this.state(queueName);
    // The handle names the message, its receive and (FIFO) its group: see record().
    const [messageId, receiveCount, ...group] = Buffer.from(receiptHandle, 'base64').toString('utf8').split('#');
    const key = group.length > 0 ? group.join('#') : messageId;
    const message = queue.groups.get(key)?.find((m) => m.messageId === messageId && String(m.receiveCount) === receiveCount);
    if (!message) return false;
    const now = Date.now();
    message.visibleAt = now + seconds * 1000 * this.scale;
    // A group no running batch holds goes where its first message now says; a held one is placed when its batch ends.
    if (queue.ready.delete(key) || queue.sleeping.delete(key)) this.park(queue, key, now);
    this.schedulePump(queue);
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
    let inFlight = 0;
    for (const group of queue.groups.values()) for (const m of group) if (isInFlight(m, now)) inFlight += 1;
    return { pending: queue.size, inFlight, deadLetters: queue.deadLetters.length };
  }

  /** True when no queue holds a message (dead letters aside) and no consumer is still running. */
  idle(): boolean {
    return [...this.queues.values()].every((q) => q.size === 0 && q.running === 0);
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
    for (const [key, at] of queue.sleeping) {
      if (at > now) continue;
      queue.sleeping.delete(key);
      queue.ready.add(key);
    }
    let wakeAt = Number.POSITIVE_INFINITY;
    // Round robin over the consumers with room, one batch per turn, until nothing visible is left to give.
    for (let idleTurns = 0; idleTurns < queue.consumers.length; ) {
      const index = queue.nextConsumer;
      const consumer = queue.consumers[index];
      queue.nextConsumer = (index + 1) % queue.consumers.length;
      const batch = this.receivable(queue, now, consumer.batchSize);
      if (batch.length === 0) break;
      if (consumer.running >= (consumer.maxConcurrency ?? defaultConcurrency)) {
        idleTurns += 1;
        continue;
      }
      if (batch.length < consumer.batchSize && consumer.maxBatchingWindowSeconds > 0) {
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
      this.deliver(queue, consumer, batch, now);
    }
    // Wake for delayed messages and for those whose visibility timeout ends (received, not deleted).
    for (const at of queue.sleeping.values()) wakeAt = Math.min(wakeAt, at);
    this.wakeAt(queue, wakeAt);
  }

  /** Puts a group that is not held by a batch where its first message says: ready, or sleeping until it is visible. */
  private park(queue: QueueState, key: string, now: number): void {
    const first = queue.groups.get(key)?.[0];
    if (!first) return;
    if (first.visibleAt <= now) queue.ready.add(key);
    else queue.sleeping.set(key, first.visibleAt);
  }

  /**
   * What a poller may receive now, up to `max` messages; changes nothing but moving messages received
   * maxReceiveCount times, now visible again, to the dead-letter list. A FIFO queue gives, group after
   * group (oldest first), each ready group's messages up to the first one that is not visible: as many
   * of one group as it can, as SQS does, and nothing of a group while a batch of it runs (a group's
   * messages go one batch at a time, in send order, even past the scaled visibility timeout: on AWS
   * that timeout is at least six times the consumer's, so a run ends before the message is visible
   * again; here durations are scaled and runs are not). A standard queue gives every visible message.
   */
  private receivable(queue: QueueState, now: number, max: number): StoredMessage[] {
    const batch: StoredMessage[] = [];
    for (const key of queue.ready) {
      const group = queue.groups.get(key)!;
      while (group.length > 0 && group[0].visibleAt <= now && group[0].receiveCount >= queue.declaration.maxReceiveCount) this.deadLetter(queue, group.shift()!);
      if (group.length === 0) {
        queue.groups.delete(key);
        queue.ready.delete(key);
        continue;
      }
      if (group[0].visibleAt > now) {
        queue.ready.delete(key);
        queue.sleeping.set(key, group[0].visibleAt);
        continue;
      }
      for (let i = 0; i < group.length && group[i].visibleAt <= now && batch.length < max; i++) batch.push(group[i]);
      if (batch.length === max) break;
    }
    return batch;
  }

  private deadLetter(queue: QueueState, m: StoredMessage): void {
    queue.size -= 1;
    queue.deadLetters.push({ messageId: m.messageId, messageGroupId: m.messageGroupId, messageDeduplicationId: m.messageDeduplicationId, body: m.body, messageAttributes: m.messageAttributes, receiveCount: m.receiveCount, sentTimestamp: m.sentTimestamp });
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
    const fifo = queue.declaration.fifo === true;
    consumer.running += 1;
    queue.running += 1;
    for (const m of batch) {
      m.receiveCount += 1;
      m.firstReceiveTimestamp ??= now;
      // At-least-once delivery: a duplicate fault leaves the message visible, so it is received again at
      // once; on a FIFO queue it is kept after its batch instead, and comes again before the rest of its group.
      const duplicated = this.options.faults?.draw('sqs', queue.declaration.name, (kind) => kind === 'duplicate');
      if (duplicated && fifo) m.redeliver = true;
      m.visibleAt = duplicated && !fifo ? now : now + queue.declaration.visibilityTimeoutSeconds * 1000 * this.scale;
      // A FIFO group is held by the batch until it ends; a standard message comes back when its visibility timeout ends.
      const key = fifo ? m.messageGroupId! : m.messageId;
      queue.ready.delete(key);
      if (!fifo) this.park(queue, key, now);
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
        if (fifo) this.settleGroups(queue, batch, failed);
        else for (const m of batch) if (!failed.has(m.messageId)) this.delete(queue, m.messageId);
        if (failed.size > 0) this.options.onBatchFailure?.(queue.declaration.name, consumer.fn.spec.name, [...failed], error);
        this.pump(queue);
      });
  }

  /**
   * The poller deletes what succeeded, even if it was received again meanwhile (as a DeleteMessage
   * with an older receipt handle usually does); failed messages stay invisible until their
   * visibility timeout ends. A standard message is a group of its own: deleting it drops its group.
   */
  private delete(queue: QueueState, key: string): void {
    if (!queue.groups.delete(key)) return;
    queue.size -= 1;
    queue.ready.delete(key);
    queue.sleeping.delete(key);
  }

  /**
   * A FIFO batch ended: in each of its groups, the batch's messages are the first ones (the group was
   * held), so deleting what succeeded costs the batch's size. Failed and duplicated messages stay
   * first, and the group is ready again, or sleeps until its first message is visible.
   */
  private settleGroups(queue: QueueState, batch: StoredMessage[], failed: Set<string>): void {
    const now = Date.now();
    const taken = new Map<string, number>();
    for (const m of batch) taken.set(m.messageGroupId!, (taken.get(m.messageGroupId!) ?? 0) + 1);
    for (const [key, count] of taken) {
      const group = queue.groups.get(key)!;
      const kept = group.slice(0, count).filter((m) => failed.has(m.messageId) || m.redeliver);
      for (const m of kept) {
        if (m.redeliver && !failed.has(m.messageId)) m.visibleAt = now;
        m.redeliver = false;
      }
      group.splice(0, count, ...kept);
      queue.size -= count - kept.length;
      if (group.length === 0) queue.groups.delete(key);
      else this.park(queue, key, now);
    }
  }

  private record(queue: QueueState, m: StoredMessage): SQSRecord {
    return {
      messageId: m.messageId,
      receiptHandle: Buffer.from(`${m.messageId}#${m.receiveCount}${m.messageGroupId === undefined ? '' : `#${m.messageGroupId}`}`).toString('base64'),
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
