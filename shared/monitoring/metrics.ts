/**
 * The tenant's platform figures, kept as per-minute counters in its own partition of the
 * monitoring table. Every figure is a sum (added with DynamoDB ADD, so writers never read first)
 * except the maxima, so any step of minutes merges by adding, and latency quantiles come from a
 * fixed log-bucket histogram whose buckets are counters too.
 */

/** Plain counts, added as they happen. */
export const counterNames = [
  'readingsIngested',
  'readingsRejected',
  'episodesOpened',
  'alertsFired',
  'deliveriesFailed',
  'pipelineRuns',
  'pipelineFailures',
  'trainingJobs',
  'trainingFailures',
] as const;
export type CounterName = (typeof counterNames)[number];

/** Attribute names of the sums behind the latency figures. */
export const lagSum = 'scoringLagSumMs';
export const lagCount = 'scoringLagCount';
export const lagMax = 'scoringLagMaxMs';
const latencyPrefix = 'predictMs';

/**
 * Predict latency histogram: bucket i holds [2^(i/4) / 8, 2^((i+1)/4) / 8) ms, so a quantile is
 * within 9 % of the truth, from 0.125 ms to about 35 minutes in 96 buckets. Fixed edges make
 * histograms of different minutes and containers mergeable by adding their counts.
 */
const bucketsPerOctave = 4;
const smallestMs = 1 / 8;
export const latencyBucketCount = 96;

export function latencyBucket(ms: number): number {
  if (!(ms > smallestMs)) return 0;
  return Math.min(latencyBucketCount - 1, Math.floor(bucketsPerOctave * Math.log2(ms / smallestMs)));
}
const bucketLowerMs = (i: number) => smallestMs * 2 ** (i / bucketsPerOctave);
export const latencyAttribute = (bucket: number) => `${latencyPrefix}${bucket}`;

/** What one tenant-minute item holds: sums (ADD) and maxima (kept when larger). */
export interface MinuteFigures {
  sums: Record<string, number>;
  maxes: Record<string, number>;
}

export interface MinuteRecord extends MinuteFigures {
  /** Epoch minute (ms / 60,000). */
  minute: number;
}

/** The port of the per-minute counters (shared/aws has the DynamoDB adapter). */
export interface MetricCounterStore {
  /** Adds `sums` to the tenant's minute and raises its maxima to `maxes` where larger. */
  add(tenant: string, minute: number, figures: MinuteFigures): Promise<void>;
  /** The tenant's minutes in [fromMinute, toMinute), oldest first; minutes with nothing recorded are absent. */
  read(tenant: string, fromMinute: number, toMinute: number): Promise<MinuteRecord[]>;
}

export const minuteOf = (epochMs: number) => Math.floor(epochMs / 60_000);

/** The figures of one step of the metrics route. */
export interface StepFigures {
  start: string;
  counts: Record<CounterName, number>;
  scoringLag: { count: number; meanMs: number | null; maxMs: number | null };
  predictLatency: { count: number; p50Ms: number | null; p95Ms: number | null };
}

/** The quantile of a histogram: the geometric middle of the bucket the q-th observation falls in. */
export function histogramQuantile(counts: readonly number[], q: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i];
    if (seen >= rank) return Number((bucketLowerMs(i) * 2 ** (0.5 / bucketsPerOctave)).toFixed(3));
  }
  return null;
}

/** Merges minute records into steps of `stepMinutes` from `fromMinute` (every step present, empty ones zero). */
export function stepFigures(records: readonly MinuteRecord[], fromMinute: number, toMinute: number, stepMinutes: number): StepFigures[] {
  const steps = Math.ceil((toMinute - fromMinute) / stepMinutes);
  const merged = Array.from({ length: steps }, () => ({ sums: {} as Record<string, number>, max: null as number | null }));
  for (const record of records) {
    const index = Math.floor((record.minute - fromMinute) / stepMinutes);
    const step = merged[index];
    if (!step) continue;
    for (const [name, value] of Object.entries(record.sums)) step.sums[name] = (step.sums[name] ?? 0) + value;
    const max = record.maxes[lagMax];
    if (max !== undefined) step.max = Math.max(step.max ?? max, max);
  }
  return merged.map(({ sums, max }, i) => {
    const lags = sums[lagCount] ?? 0;
    const histogram = Array.from({ length: latencyBucketCount }, (_, b) => sums[latencyAttribute(b)] ?? 0);
    return {
      start: new Date((fromMinute + i * stepMinutes) * 60_000).toISOString(),
      counts: Object.fromEntries(counterNames.map((name) => [name, sums[name] ?? 0])) as Record<CounterName, number>,
      scoringLag: { count: lags, meanMs: lags > 0 ? Math.round((sums[lagSum] ?? 0) / lags) : null, maxMs: max },
      predictLatency: { count: histogram.reduce((a, b) => a + b, 0), p50Ms: histogramQuantile(histogram, 0.5), p95Ms: histogramQuantile(histogram, 0.95) },
    };
  });
}
