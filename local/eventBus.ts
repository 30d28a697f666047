import type { EventBridgeEvent } from 'aws-lambda';
import { invokeFunction, localAccount, localRegion, type LocalFunction } from './lambdaRuntime.js';

/** A rule on the bus: which events it matches and the function it starts. */
export interface EventRule {
  name: string;
  detailTypes: readonly string[];
  source?: string;
  /** Further matching on the event's detail (e.g. the bucket and key prefix of S3 events). */
  matchesDetail?: (detail: unknown) => boolean;
  fn: LocalFunction;
}

export interface PutEventEntry {
  source: string;
  detailType: string;
  /** The detail object (PutEvents carries it as a JSON string). */
  detail: unknown;
  resources?: string[];
  time?: Date;
}

/** An event a target failed to process after Lambda's asynchronous retries. */
export interface FailedEvent {
  rule: string;
  event: EventBridgeEvent<string, unknown>;
  error: string;
}

export interface EventBusOptions {
  name: string;
  timeScale?: number;
  onDeliveryFailure?: (failure: FailedEvent) => void;
}

/** Delays of Lambda's two retries of a failed asynchronous invocation (about 1 and 2 minutes). */
const retryDelaysSeconds = [60, 120];

/**
 * The EventBridge bus in process: events matching a rule's detail types (and source) start its
 * function asynchronously with the real event shape; a failing target is retried twice, as
 * Lambda does for asynchronous invocations, then lands in the failed-events list.
 */
export class EventBus {
  readonly arn: string;
  private readonly rules: EventRule[] = [];
  private readonly failed: FailedEvent[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private deliveries = 0;
  private readonly scale: number;

  constructor(private readonly options: EventBusOptions) {
    this.arn = `arn:aws:events:${localRegion}:${localAccount}:event-bus/${options.name}`;
    this.scale = options.timeScale ?? 1;
  }

  /** True when the name or ARN names this bus (PutEvents defaults to the `default` bus). */
  isThisBus(nameOrArn: string | undefined): boolean {
    return nameOrArn === this.options.name || nameOrArn === this.arn;
  }

  addRule(rule: EventRule): void {
    this.rules.push(rule);
  }

  put(entry: PutEventEntry): string {
    const event: EventBridgeEvent<string, unknown> = {
      version: '0',
      id: crypto.randomUUID(),
      'detail-type': entry.detailType,
      source: entry.source,
      account: localAccount,
      time: (entry.time ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: localRegion,
      resources: entry.resources ?? [],
      detail: entry.detail,
    };
    for (const rule of this.rules) {
      if (!rule.detailTypes.includes(entry.detailType) || (rule.source !== undefined && rule.source !== entry.source)) continue;
      if (rule.matchesDetail && !rule.matchesDetail(entry.detail)) continue;
      this.deliver(rule, event, 0);
    }
    return event.id;
  }

  failedEvents(): FailedEvent[] {
    return [...this.failed];
  }

  idle(): boolean {
    return this.deliveries === 0 && this.timers.size === 0;
  }

  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private deliver(rule: EventRule, event: EventBridgeEvent<string, unknown>, attempt: number): void {
    this.deliveries += 1;
    // Asynchronous, as a rule target is: the producer's PutEvents does not wait for it.
    setImmediate(() => {
      invokeFunction(rule.fn, structuredClone(event))
        .then(
          () => undefined,
          (error: unknown) => {
            if (attempt < retryDelaysSeconds.length) {
              const timer = setTimeout(() => {
                this.timers.delete(timer);
                this.deliver(rule, event, attempt + 1);
              }, retryDelaysSeconds[attempt] * 1000 * this.scale);
              this.timers.add(timer);
              return;
            }
            const failure = { rule: rule.name, event, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
            this.failed.push(failure);
            this.options.onDeliveryFailure?.(failure);
          },
        )
        .finally(() => {
          this.deliveries -= 1;
        });
    });
  }
}
