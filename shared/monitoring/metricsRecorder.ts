import { lagCount, lagMax, lagSum, latencyAttribute, latencyBucket, minuteOf, type CounterName, type MetricCounterStore, type MinuteFigures } from './metrics.js';

export interface MetricsRecorderOptions {
  /**
   * How long figures wait in the container before one write per tenant-minute carries them. The
   * request that records them never waits for that write (it is not on predict's or ingest's path);
   * a container that Lambda reclaims before its next flush loses at most this much of its counts.
   */
  flushAfterMs?: number;
  now?: () => number;
  /** Told when a background flush fails (the figures are kept for the next one). */
  onFlushError?: (error: unknown) => void;
  /** Told of every figure as it is recorded (the functions emit it as a CloudWatch metric too). */
  onFigure?: (figure: Figure) => void;
}

/** A figure as it happens: a count of a counter, or a duration. */
export type Figure = { name: CounterName; count: number } | { name: 'scoringLag' | 'predictLatency'; ms: number };

/**
 * Records the tenant's figures in memory and writes them in the background: one UpdateItem per
 * tenant and minute per flush, however many requests added to them.
 */
export class MetricsRecorder {
  private pending = new Map<string, { tenant: string; minute: number; figures: MinuteFigures }>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly flushAfterMs: number;
  private readonly now: () => number;

  constructor(
    private readonly store: MetricCounterStore,
    private readonly options: MetricsRecorderOptions = {},
  ) {
    this.flushAfterMs = options.flushAfterMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  count(tenant: string, counts: Partial<Record<CounterName, number>>, at = this.now()): void {
    const { sums } = this.entry(tenant, at);
    for (const [name, n] of Object.entries(counts) as [CounterName, number][]) {
      if (!n) continue;
      sums[name] = (sums[name] ?? 0) + n;
      this.options.onFigure?.({ name, count: n });
    }
    this.schedule();
  }

  /** A reading's way from its timestamp to its score. */
  scoringLag(tenant: string, lagMs: number, at = this.now()): void {
    const { sums, maxes } = this.entry(tenant, at);
    const ms = Math.max(0, Math.round(lagMs));
    sums[lagSum] = (sums[lagSum] ?? 0) + ms;
    sums[lagCount] = (sums[lagCount] ?? 0) + 1;
    maxes[lagMax] = Math.max(maxes[lagMax] ?? 0, ms);
    this.options.onFigure?.({ name: 'scoringLag', ms });
    this.schedule();
  }

  predictLatency(tenant: string, ms: number, at = this.now()): void {
    const { sums } = this.entry(tenant, at);
    const name = latencyAttribute(latencyBucket(ms));
    sums[name] = (sums[name] ?? 0) + 1;
    this.options.onFigure?.({ name: 'predictLatency', ms });
    this.schedule();
  }

  /** Writes what is pending now; figures a failed write held are put back for the next flush. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.flushing = this.flushing.then(async () => {
      const results = await Promise.allSettled(batch.map(({ tenant, minute, figures }) => this.store.add(tenant, minute, figures)));
      const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ ...batch[i], error: r.reason as unknown }] : []));
      for (const { tenant, minute, figures } of failed) this.merge(tenant, minute, figures);
      if (failed.length > 0) {
        this.schedule();
        throw failed[0].error;
      }
    });
    const done = this.flushing;
    // The chain goes on after a failure; the caller of flush() still sees it.
    this.flushing = done.catch(() => undefined);
    return done;
  }

  private entry(tenant: string, at: number): MinuteFigures {
    const minute = minuteOf(at);
    const key = `${tenant}|${minute}`;
    let entry = this.pending.get(key);
    if (!entry) {
      entry = { tenant, minute, figures: { sums: {}, maxes: {} } };
      this.pending.set(key, entry);
    }
    return entry.figures;
  }

  private merge(tenant: string, minute: number, figures: MinuteFigures): void {
    const target = this.entry(tenant, minute * 60_000);
    for (const [name, n] of Object.entries(figures.sums)) target.sums[name] = (target.sums[name] ?? 0) + n;
    for (const [name, n] of Object.entries(figures.maxes)) target.maxes[name] = Math.max(target.maxes[name] ?? n, n);
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch((error: unknown) => this.options.onFlushError?.(error));
    }, this.flushAfterMs);
    // A pending flush never keeps a process (the local cloud, a test) alive.
    this.timer.unref?.();
  }
}
