import { assertFiniteSeries, assertInRange, assertMinLength, SeriesTooShortError, ShapeMismatchError } from '../streaming/errors.js';
import { normalQuantile } from '../streaming/stats.js';
import { refinePeriod } from '../streaming/warmup.js';
import { fitEts, forecastEts, type EtsFit, type EtsKind, type EtsSpec } from './ets.js';
import { detectPeriod } from './period.js';

export interface ForecastOptions {
  horizon: number;
  /** Season length; default detected by ACF (1 = none). */
  period?: number;
  /** 'auto' (default) picks the lowest AIC among simple, Holt, damped Holt and, with a season, (damped) Holt-Winters. */
  model?: 'auto' | EtsKind;
  /** With model holt or holt_winters: damp the trend. Default false ('auto' tries both). */
  damped?: boolean;
  /** Prediction interval coverage, default 0.95. */
  level?: number;
  /** Points held out to measure accuracy against the naive seasonal forecast; default min(horizon, n/4), 0 to skip. */
  holdout?: number;
  /** Epoch milliseconds of each value: forecasts then carry timestamps one median step apart. */
  timestamps?: readonly number[];
}

export interface ForecastPoint {
  step: number;
  timestamp?: number;
  mean: number;
  lower: number;
  upper: number;
}

export interface HoldoutAccuracy {
  holdout: number;
  mae: number;
  rmse: number;
  /** MAE over the in-sample MAE of the one-step naive seasonal forecast (Hyndman and Koehler); null when that is 0. */
  mase: number | null;
  /** The naive seasonal forecast (last season repeated) on the same hold-out. */
  naive: { mae: number; rmse: number };
  /** Share of hold-out points inside the prediction interval. */
  coverage: number;
  beatsNaive: boolean;
}

export interface ForecastResult {
  model: { kind: EtsKind; damped: boolean; period: number; alpha: number; beta: number; gamma: number; phi: number; sigma: number; aic: number };
  level: number;
  points: ForecastPoint[];
  /** null when the series is too short to hold out points and still fit the model. */
  accuracy: HoldoutAccuracy | null;
}

const MIN_POINTS = 10;
const MAX_HORIZON = 10_000;

/** Forecast with prediction intervals and the model's hold-out error against the naive seasonal baseline. */
export function forecastSeries(values: readonly number[], options: ForecastOptions): ForecastResult {
  assertFiniteSeries(values);
  assertMinLength(values, MIN_POINTS, 'series', 'to fit a forecasting model');
  assertInRange('horizon', options.horizon, 1, MAX_HORIZON, true);
  const level = options.level ?? 0.95;
  assertInRange('level', level, 0.5, 0.999);
  if (options.timestamps) {
    if (options.timestamps.length !== values.length) throw new ShapeMismatchError('timestamps and values differ in length');
    assertFiniteSeries(options.timestamps, 'timestamps');
  }
  const n = values.length;
  let period: number;
  if (options.period !== undefined) {
    assertInRange('period', options.period, 1, 100_000, true);
    period = options.period;
  } else {
    period = refinePeriod(values, detectPeriod(values).period);
  }
  if (options.model === 'holt_winters' && period < 2) throw new SeriesTooShortError('series', n, 0, 'to fit holt_winters: no season was found; pass period or another model');
  if (period > 1) assertMinLength(values, 2 * period, 'series', `for two seasons of ${period} points`);
  const specs = candidateSpecs(options, period);
  const z = normalQuantile(0.5 + level / 2);
  const holdout = options.holdout ?? Math.min(options.horizon, Math.floor(n / 4));
  assertInRange('holdout', holdout, 0, n - MIN_POINTS, true);
  const training = values.slice(0, n - holdout);
  const canHoldOut = holdout > 0 && training.length >= Math.max(MIN_POINTS, period > 1 ? 2 * period : 0);
  const accuracy = canHoldOut ? holdoutAccuracy(training, values.slice(n - holdout), specs, period, z) : null;
  const fit = bestFit(values, specs);
  const step = options.timestamps ? medianStep(options.timestamps) : 0;
  const last = options.timestamps ? options.timestamps[n - 1] : 0;
  const points = forecastEts(fit, options.horizon, z).map((p, i): ForecastPoint => ({ step: i + 1, ...(options.timestamps ? { timestamp: last + step * (i + 1) } : {}), ...p }));
  const { alpha, beta, gamma, phi } = fit.params;
  return { model: { kind: fit.spec.kind, damped: fit.spec.damped, period: fit.spec.period, alpha, beta, gamma, phi, sigma: fit.sigma, aic: fit.aic }, level, points, accuracy };
}

function candidateSpecs(options: ForecastOptions, period: number): EtsSpec[] {
  const model = options.model ?? 'auto';
  if (model !== 'auto') return [{ kind: model, damped: model !== 'simple' && (options.damped ?? false), period: model === 'holt_winters' ? period : 1 }];
  const specs: EtsSpec[] = [
    { kind: 'simple', damped: false, period: 1 },
    { kind: 'holt', damped: false, period: 1 },
    { kind: 'holt', damped: true, period: 1 },
  ];
  if (period > 1) specs.push({ kind: 'holt_winters', damped: false, period }, { kind: 'holt_winters', damped: true, period });
  return specs;
}

function bestFit(values: readonly number[], specs: readonly EtsSpec[]): EtsFit {
  let best: EtsFit | null = null;
  for (const spec of specs) {
    const fit = fitEts(values, spec);
    if (best === null || fit.aic < best.aic) best = fit;
  }
  return best as EtsFit;
}

function holdoutAccuracy(training: readonly number[], actual: readonly number[], specs: readonly EtsSpec[], period: number, z: number): HoldoutAccuracy {
  const predicted = forecastEts(bestFit(training, specs), actual.length, z);
  const naive = actual.map((_, i) => training[training.length - period + (i % period)]);
  let absError = 0;
  let sqError = 0;
  let naiveAbs = 0;
  let naiveSq = 0;
  let covered = 0;
  for (let i = 0; i < actual.length; i++) {
    const e = actual[i] - predicted[i].mean;
    absError += Math.abs(e);
    sqError += e * e;
    const en = actual[i] - naive[i];
    naiveAbs += Math.abs(en);
    naiveSq += en * en;
    if (actual[i] >= predicted[i].lower && actual[i] <= predicted[i].upper) covered++;
  }
  const h = actual.length;
  let inSampleNaive = 0;
  for (let t = period; t < training.length; t++) inSampleNaive += Math.abs(training[t] - training[t - period]);
  inSampleNaive /= training.length - period;
  const mae = absError / h;
  const naiveMae = naiveAbs / h;
  return {
    holdout: h,
    mae,
    rmse: Math.sqrt(sqError / h),
    mase: inSampleNaive > 0 ? mae / inSampleNaive : null,
    naive: { mae: naiveMae, rmse: Math.sqrt(naiveSq / h) },
    coverage: covered / h,
    beatsNaive: mae < naiveMae,
  };
}

function medianStep(timestamps: readonly number[]): number {
  const d = timestamps.slice(1).map((t, i) => t - timestamps[i]).sort((a, b) => a - b);
  return d.length === 0 ? 0 : d[Math.floor(d.length / 2)];
}
