import { z } from 'zod';

/** What a recognised anomaly looks like. `null` in a point means "anomalous, but no single kind stands out" or "normal". */
export const anomalyKinds = ['spike', 'level_shift', 'trend_change', 'variance_change', 'stuck'] as const;
export type AnomalyKind = (typeof anomalyKinds)[number];

export const streamingConfigSchema = z.object({
  /** 0 (fewest alarms) to 100 (most). */
  sensitivity: z.number().min(0).max(100),
  /** Points buffered before the model is fitted (level, spread, season and smoothing constants). */
  warmup: z.number().int().min(16).max(20_000),
  /** Longest season looked for; also bounds the state size (one number per phase). */
  maxPeriod: z.number().int().min(2).max(5_000),
  /** A fixed season length, or null to detect it from the warm-up buffer (1 means no season). */
  period: z.number().int().min(1).max(5_000).nullable(),
});
export type StreamingConfig = z.infer<typeof streamingConfigSchema>;

const finite = z.number().refine(Number.isFinite, 'must be finite');

/** The fitted model: a robust damped Holt-Winters (additive) plus the statistics of the four alarm channels. */
export const modelStateSchema = z.object({
  period: z.number().int().min(1),
  phase: z.number().int().min(0),
  alpha: finite,
  beta: finite,
  gamma: finite,
  phi: finite,
  level: finite,
  trend: finite,
  season: z.array(finite),
  /** EW mean of the clipped absolute one-step residual: the spread (sigma = 1.2533 x this for normal noise). */
  meanAbs: finite,
  sigmaFloor: finite,
  /** Running estimate of the 99th percentile of |z|: rescales z so heavy-tailed series keep the nominal false-alarm rate. */
  q99: finite,
  /** Running 99.9th percentile of |z|: with q99 it fits an exponential tail when the noise is heavier than normal. */
  q999: finite,
  cusumPos: finite,
  cusumNeg: finite,
  /** Per CUSUM side: points, sum of residuals, sum of t x residual since the side last left 0 (a line fit in O(1)). */
  runPos: z.tuple([finite, finite, finite]),
  runNeg: z.tuple([finite, finite, finite]),
  varShort: finite,
  varLong: finite,
  /** EW mean of the squared variance-channel input: its spread sets the channel's degrees of freedom (Satterthwaite). */
  varLongSq: finite,
  lastZ: finite,
  /** Points since the last level re-base (capped) and its direction: repeated same-way shifts reveal a ramp. */
  shiftAge: z.number().int().min(0),
  shiftSign: z.number().int().min(-1).max(1),
  /** Points left during which the season learns fast, after a confirmed change. */
  boost: z.number().int().min(0),
  repeatRate: finite,
  repeatRun: z.number().int().min(0),
  last: finite,
  /** Long-run EW mean and variance of the log-surprise: what this sensor's ordinary surprise looks like. */
  surpriseMean: finite.optional(),
  surpriseVar: finite.optional(),
  /** Decaying memory of the last scores: a score counts only where it rises above it (an onset). */
  hold: finite.optional(),
  /** The range of values seen so far: a value beyond it is news whatever the model expected. */
  low: finite.optional(),
  high: finite.optional(),
})
  // States stored before the onset score existed restore with a neutral one: ordinary surprise, nothing held, and a
  // range of about 6 sigma around the level (a value beyond it is news anyway).
  .transform((m) => ({
    ...m,
    surpriseMean: m.surpriseMean ?? 0,
    surpriseVar: m.surpriseVar ?? 1,
    hold: m.hold ?? 0,
    low: m.low ?? m.level - 8 * m.meanAbs,
    high: m.high ?? m.level + 8 * m.meanAbs,
  }));
export type ModelState = z.output<typeof modelStateSchema>;

export const streamingStateSchema = z.object({
  version: z.literal(1),
  config: streamingConfigSchema,
  /** Points seen so far. */
  n: z.number().int().min(0),
  /** The warm-up buffer; null once the model is fitted. */
  buffer: z.array(finite).nullable(),
  model: modelStateSchema.nullable(),
});
/** The whole per-sensor state: plain JSON, a few KB (dominated by the season, one number per phase). */
export type StreamingState = z.infer<typeof streamingStateSchema>;

export interface StreamingPoint {
  /** Position of the point in the sensor's stream (0 = first point ever seen). */
  index: number;
  value: number;
  /**
   * Anomaly likelihood in [0, 1], high where something starts: how unusual this point's surprise is for this sensor,
   * or how far it leaves the range seen so far, kept only where it rises above the recent scores (so a persistent
   * change scores at its onset, not through the episode). Labels come from the alarm channels, not from this score.
   */
  score: number;
  /**
   * The alarm channels' surprise in [0, 1]: -log10(p)/10 of the most surprised channel, p its tail probability under the
   * learned model. It stays high while an anomaly lasts; `label` is surprise >= the detector's surpriseThreshold.
   */
  surprise: number;
  label: boolean;
  /** One-step-ahead prediction from the past only. */
  expected: number;
  lower: number;
  upper: number;
  kind: AnomalyKind | null;
  /** True while the warm-up buffer fills: no score yet (0), band from the running mean and standard deviation. */
  warmingUp: boolean;
  /** True when the detector re-based its level (or trend) here after a confirmed shift. */
  changePoint: boolean;
}
