/**
 * The local cloud's fault plan: which local service operation fails, how, and how often. Rates are
 * drawn from a seeded generator, so the same plan and seed fail the same calls in the same order.
 *
 * Text form (TELLTALE_FAULTS, or `faults` of startLocalCloud), rules separated by commas:
 *   <service>:<operation>=<kind>[:<argument>][@<rate> | #<n>[+<n>...]]
 * e.g. `dynamodb:PutItem=throttle@0.3,s3:GetObject=500@0.1,lambda:validateDataset=crash#1`.
 * `*` as operation matches every operation of the service; `@rate` fails that share of calls,
 * `#n` the n-th matching call (counted per rule, from 1); with neither, every call fails.
 */
import { createRng } from '../shared/ml/multivariate/rng.js';
import { LambdaTimeoutError, type LocalFunction } from './lambdaRuntime.js';

/** Fault kinds per service; the operation is an API action (PutItem, GetObject, PutEvents), a queue or a function name. */
export const faultKinds = {
  /** ProvisionedThroughputExceededException, ThrottlingException, ConditionalCheckFailedException (conditional writes only). */
  dynamodb: ['throttle', 'throttling', 'conditional'],
  /** InternalError (500), SlowDown (503), a body that ends early. */
  s3: ['500', '503', 'truncate'],
  /** PutEvents answers FailedEntryCount > 0: each entry of a faulted call fails with chance `argument` (default 0.5), at least one. */
  events: ['partial'],
  /** The message is delivered twice; or it becomes visible `argument` seconds (default 10) later. */
  sqs: ['duplicate', 'delay'],
  /**
   * The function does its work, then its runtime exits (Runtime.ExitError) or it times out: the answer
   * is lost. With `argument` (0..1) and a batch event (SQS), it dies part way: after the work of that
   * share of the batch's records, the rest never started.
   */
  lambda: ['crash', 'timeout'],
} as const;

export type FaultService = keyof typeof faultKinds;
export type FaultKind = (typeof faultKinds)[FaultService][number];

export interface FaultRule {
  service: FaultService;
  /** Operation, queue or function name; `*` matches all. */
  operation: string;
  kind: FaultKind;
  /** Share of matching calls that fail, 0..1. */
  rate?: number;
  /** Matching calls (1-based, counted per rule) that fail. */
  nth?: readonly number[];
  /** Kind-specific number: the delay in seconds of `delay`, the share of entries `partial` fails, the share of a batch a `crash` or `timeout` gets through. */
  argument?: number;
}

/** A fault that fired: what a test or the log can check. */
export interface InjectedFault {
  service: FaultService;
  operation: string;
  kind: FaultKind;
  at: number;
}

export class FaultPlanError extends Error {
  override name = 'FaultPlanError';
}

const ruleSyntax = /^(\w+):([\w.*-]+)=(\w+)(?::(\d+(?:\.\d+)?))?(?:@(\d*\.?\d+)|#(\d+(?:\+\d+)*))?$/;

/** Parses the text form; throws FaultPlanError naming the first rule it cannot read. */
export function parseFaultRules(text: string): FaultRule[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const match = ruleSyntax.exec(part);
      if (!match) throw new FaultPlanError(`Fault rule "${part}" is not <service>:<operation>=<kind>[:<argument>][@<rate>|#<n>]`);
      const [, service, operation, kind, argument, rate, nth] = match;
      return validRule({
        service: service as FaultService,
        operation,
        kind: kind as FaultKind,
        ...(argument !== undefined ? { argument: Number(argument) } : {}),
        ...(rate !== undefined ? { rate: Number(rate) } : {}),
        ...(nth !== undefined ? { nth: nth.split('+').map(Number) } : {}),
      });
    });
}

function validRule(rule: FaultRule): FaultRule {
  const kinds = (faultKinds as Record<string, readonly string[]>)[rule.service];
  if (!kinds) throw new FaultPlanError(`Unknown fault service "${rule.service}" (one of ${Object.keys(faultKinds).join(', ')})`);
  if (!kinds.includes(rule.kind)) throw new FaultPlanError(`Unknown ${rule.service} fault "${rule.kind}" (one of ${kinds.join(', ')})`);
  if (rule.rate !== undefined && !(rule.rate >= 0 && rule.rate <= 1)) throw new FaultPlanError(`Fault rate ${rule.rate} of ${rule.service}:${rule.operation} is not between 0 and 1`);
  if (rule.service === 'lambda' && rule.argument !== undefined && rule.argument > 1) throw new FaultPlanError(`The share of the batch ${rule.service}:${rule.operation} gets through is between 0 and 1`);
  if (rule.nth?.some((n) => !Number.isInteger(n) || n < 1)) throw new FaultPlanError(`#n of ${rule.service}:${rule.operation} counts calls from 1`);
  return rule;
}

/**
 * A live fault plan: the local services ask it, per call, whether to fail; tests change it while
 * the cloud runs (`set`, `clear`) and read what fired (`injected`).
 */
export class FaultPlan {
  private rules: { rule: FaultRule; calls: number }[] = [];
  private random: () => number;
  private readonly log: InjectedFault[] = [];

  constructor(
    rules: string | readonly FaultRule[] = [],
    private seed = 1,
    /** Services this cloud can fail; a rule for another is refused rather than silently ignored. */
    private readonly supported: readonly FaultService[] = Object.keys(faultKinds) as FaultService[],
  ) {
    this.random = createRng(seed);
    this.set(rules, seed);
  }

  /** Replaces the rules; restarts the seeded draws, the per-rule call counts and the list of injected faults. */
  set(rules: string | readonly FaultRule[], seed = this.seed): this {
    const parsed = typeof rules === 'string' ? parseFaultRules(rules) : rules.map(validRule);
    const unsupported = parsed.find((r) => !this.supported.includes(r.service));
    if (unsupported) throw new FaultPlanError(`This local cloud cannot inject ${unsupported.service} faults (${unsupported.service === 'dynamodb' || unsupported.service === 's3' ? 'it was started without a fault plan, so no fault proxy runs, or with an external endpoint' : 'not supported'})`);
    this.rules = parsed.map((rule) => ({ rule, calls: 0 }));
    this.log.length = 0;
    this.seed = seed;
    this.random = createRng(seed);
    return this;
  }

  clear(): this {
    return this.set([]);
  }

  /** Whether any rule names this service (callers skip their fault path entirely otherwise). */
  has(service: FaultService): boolean {
    return this.rules.some(({ rule }) => rule.service === service);
  }

  /**
   * The fault to inject on this call, if any: the first matching rule that fires. Each matching
   * rule counts the call, so `#n` means the n-th call of that operation whatever else fired.
   */
  draw(service: FaultService, operation: string, eligible: (kind: FaultKind) => boolean = () => true): FaultRule | undefined {
    let fired: FaultRule | undefined;
    for (const entry of this.rules) {
      const { rule } = entry;
      if (rule.service !== service || (rule.operation !== '*' && rule.operation !== operation) || !eligible(rule.kind)) continue;
      entry.calls += 1;
      const fires = rule.nth ? rule.nth.includes(entry.calls) : rule.rate === undefined || this.random() < rule.rate;
      if (fires && !fired) fired = rule;
    }
    if (fired) this.log.push({ service, operation, kind: fired.kind, at: Date.now() });
    return fired;
  }

  /** A seeded draw in [0, 1), for faults that pick within a call (which PutEvents entries fail). */
  chance(): number {
    return this.random();
  }

  /** Faults injected since the plan was last set, oldest first. */
  injected(service?: FaultService): InjectedFault[] {
    return this.log.filter((f) => service === undefined || f.service === service);
  }

  describe(): string {
    return this.rules.map(({ rule }) => `${rule.service}:${rule.operation}=${rule.kind}${rule.argument !== undefined ? `:${rule.argument}` : ''}${rule.nth ? `#${rule.nth.join('+')}` : rule.rate !== undefined ? `@${rule.rate}` : ''}`).join(',');
  }
}

/** What Lambda reports when a function's runtime dies mid-invocation (an uncaught crash, out of memory). */
export class RuntimeExitError extends Error {
  override name = 'Runtime.ExitError';
  constructor(requestId: string) {
    super(`RequestId: ${requestId} Error: Runtime exited with error: exit status 1`);
  }
}

/**
 * A function's handler with `lambda:<name>=crash|timeout` faults: the handler does its work (its
 * writes land), then the invocation fails as a crashed or timed-out one, so the caller sees an
 * error and retries or compensates work that was in fact done, the hard case for idempotency.
 * With a share, a batch's handler gets only the records it reached before dying (mid-batch).
 */
export function withFunctionFaults(fn: LocalFunction, plan: FaultPlan): LocalFunction['handler'] {
  const handler = fn.handler;
  return async (event, context) => {
    const fault = plan.has('lambda') ? plan.draw('lambda', fn.spec.name) : undefined;
    const records = (event as { Records?: unknown } | null)?.Records;
    const partial = fault?.argument !== undefined && Array.isArray(records);
    const reached = partial ? ({ ...(event as object), Records: records.slice(0, Math.floor(records.length * fault.argument!)) } as never) : event;
    const result = await handler(reached, context);
    if (fault?.kind === 'crash') throw new RuntimeExitError(context.awsRequestId);
    if (fault?.kind === 'timeout') throw new LambdaTimeoutError(fn.spec.name, fn.spec.timeoutSeconds);
    return result;
  };
}
