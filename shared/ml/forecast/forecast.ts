import { assertFiniteSeries, assertInRange, assertMinLength, InvalidParameterError, SeriesTooShortError, ShapeMismatchError } from '../streaming/errors.js';
import { fitEts, forecastEts, kindOf, type EtsFit, type EtsKind, type EtsSpec, type IntervalPoint, type SeasonKind, type TrendKind } from './ets.js';
import { candidatePeriods } from './period.js';
import { fitSeasonalNaive, forecastSeasonalNaive, type SeasonalNaive } from './seasonalNaive.js';

export type ForecastModelName = 'auto' | EtsKind | 'seasonal_naive';

export interface ForecastOptions {
  horizon: number;
  /** Season length; default: the candidates from the calendar and the ACF, chosen among by AICc (1 = none). */
  period?: number;
  /**
   * 'auto' (default) fits simple, Holt, damped Holt and, for each candidate period, Holt-Winters with an additive or
   * multiplicative season and no, plain or damped trend; it keeps the lowest AICc, then falls back to the naive
   * seasonal forecast when that did better on a rolling-origin check.
   */
  model?: ForecastModelName;
  /** With model holt or holt_winters: damp the trend. Default false. */
  damped?: boolean;
  /** With model holt_winters: how the season combines with the level. Default additive. */
  seasonal?: Exclude<SeasonKind, 'none'>;
  /** Prediction interval coverage, default 0.95. */
  level?: number;
  /** Points held out to measure accuracy against the naive seasonal forecast; default min(horizon, n/4), 0 to skip. */
  holdout?: number;
  /** Epoch milliseconds of each value: forecasts then carry timestamps one median step apart, and the step suggests a season. */
  timestamps?: readonly number[];
}

export interface ForecastPoint extends IntervalPoint {
  step: number;
  timestamp?: number;
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

export interface ForecastModel {
  kind: EtsKind | 'seasonal_naive';
  trend: TrendKind;
  season: SeasonKind;
  damped: boolean;
  period: number;
  alpha: number;
  beta: number;
  gamma: number;
  phi: number;
  sigma: number;
  /** null for the seasonal naive forecast, which is not fitted by likelihood. */
  aic: number | null;
  aicc: number | null;
}

export interface ModelSelection {
  /** Season lengths tried (besides none). */
  periods: number[];
  /** Every model fitted, with its AICc; the lowest was kept. */
  candidates: { kind: EtsKind; trend: TrendKind; season: SeasonKind; period: number; aicc: number }[];
  /** The rolling-origin check against the naive seasonal forecast ('auto' only; null when the series is too short). */
  floor: { origins: number; window: number; modelMae: number; naiveMae: number; usedNaive: boolean } | null;
}

export interface ForecastResult {
  model: ForecastModel;
  level: number;
  points: ForecastPoint[];
  /** null when the series is too short to hold out points and still fit the model. */
  accuracy: HoldoutAccuracy | null;
  selection: ModelSelection;
}

type Chosen = { fit: EtsFit; naive?: undefined } | { naive: SeasonalNaive; fit?: undefined };

interface Selection extends ModelSelection {
  chosen: Chosen;
  /** The season the naive baseline repeats. */
  naivePeriod: number;
}

const MIN_POINTS = 10;
const MAX_HORIZON = 10_000;
/** Points the models are fitted on at most (more when four seasons need more). */
const MAX_FIT_POINTS = 4000;
/** Rolling origins of the naive floor, each one window apart. */
const FLOOR_ORIGINS = 3;

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
  if (options.period !== undefined) {
    assertInRange('period', options.period, 1, 100_000, true);
    if (options.period > 1) assertMinLength(values, 2 * options.period, 'series', `for two seasons of ${options.period} points`);
  }
  if (options.seasonal === 'multiplicative' && values.some((v) => v <= 0)) throw new InvalidParameterError('seasonal', 'a multiplicative season needs a series above 0');
  const n = values.length;
  const step = options.timestamps ? medianStep(options.timestamps) : 0;
  const selection = selectModel(values, options, step);
  const holdout = options.holdout ?? Math.min(options.horizon, Math.floor(n / 4));
  assertInRange('holdout', holdout, 0, n - MIN_POINTS, true);
  const training = values.slice(0, n - holdout);
  const canHoldOut = holdout > 0 && training.length >= Math.max(MIN_POINTS, 2 * selection.naivePeriod + 2);
  const accuracy = canHoldOut ? holdoutAccuracy(training, values.slice(n - holdout), selection, level) : null;
  const last = options.timestamps ? options.timestamps[n - 1] : 0;
  const points = forecastChosen(selection.chosen, options.horizon, level).map((p, i): ForecastPoint => ({ step: i + 1, ...(options.timestamps ? { timestamp: last + step * (i + 1) } : {}), ...p }));
  const { periods, candidates, floor } = selection;
  return { model: describe(selection.chosen), level, points, accuracy, selection: { periods, candidates, floor } };
}

function selectModel(values: readonly number[], options: ForecastOptions, step: number): Selection {
  const model = options.model ?? 'auto';
  const periods = options.period !== undefined ? (options.period > 1 ? [options.period] : []) : candidatePeriods(values, step);
  const naivePeriod = periods[0] ?? 1;
  if (model === 'seasonal_naive') return { periods, candidates: [], floor: null, chosen: { naive: fitSeasonalNaive(values, naivePeriod) }, naivePeriod };
  if (model === 'holt_winters' && periods.length === 0) throw new SeriesTooShortError('series', values.length, 0, 'to fit holt_winters: no season was found; pass period or another model');
  const recent = recentPart(values, periods);
  const fits = candidateSpecs(options, periods, recent.every((v) => v > 0)).map((spec) => fitEts(recent, spec));
  const best = fits.reduce((a, b) => (b.aicc < a.aicc ? b : a));
  // A multiplicative model that left its domain, or one with more parameters than points, has no finite AICc.
  const candidates = fits.filter((f) => Number.isFinite(f.aicc)).map((f) => ({ kind: kindOf(f.spec), trend: f.spec.trend, season: f.spec.season, period: f.spec.period, aicc: f.aicc }));
  const basePeriod = best.spec.period > 1 ? best.spec.period : naivePeriod;
  const floor = model === 'auto' ? naiveFloor(recent, best.spec, basePeriod, options.horizon) : null;
  const chosen: Chosen = floor?.usedNaive ? { naive: fitSeasonalNaive(recent, basePeriod) } : { fit: best };
  return { periods, candidates, floor, chosen, naivePeriod: basePeriod };
}

function candidateSpecs(options: ForecastOptions, periods: readonly number[], positive: boolean): EtsSpec[] {
  const model = options.model ?? 'auto';
  const trend: TrendKind = options.damped ? 'damped' : 'additive';
  if (model === 'simple') return [{ trend: 'none', season: 'none', period: 1 }];
  if (model === 'holt') return [{ trend, season: 'none', period: 1 }];
  if (model === 'holt_winters') return [{ trend, season: options.seasonal ?? 'additive', period: periods[0] }];
  const trends: TrendKind[] = ['none', 'additive', 'damped'];
  // A multiplicative season scales with the level, which only means something for a positive series.
  const seasons: SeasonKind[] = positive ? ['additive', 'multiplicative'] : ['additive'];
  return [
    ...trends.map((t): EtsSpec => ({ trend: t, season: 'none', period: 1 })),
    ...periods.flatMap((period) => seasons.flatMap((season) => trends.map((t): EtsSpec => ({ trend: t, season, period })))),
  ];
}

/**
 * The chosen model against the naive seasonal forecast from the last few origins, a window apart, each refitted on
 * the data before it: when the model's mean absolute error is the larger, the naive forecast is used instead.
 */
function naiveFloor(values: readonly number[], spec: EtsSpec, period: number, horizon: number): Selection['floor'] {
  const n = values.length;
  const window = Math.min(horizon, Math.max(1, Math.floor(n / 5)));
  const minTraining = Math.max(MIN_POINTS, 2 * spec.period + 2, 2 * period);
  let modelError = 0;
  let naiveError = 0;
  let origins = 0;
  for (let k = 1; k <= FLOOR_ORIGINS; k++) {
    const origin = n - k * window;
    if (origin < minTraining) break;
    const training = values.slice(0, origin);
    const actual = values.slice(origin, origin + window);
    const predicted = forecastEts(fitEts(training, spec), window, 0.5);
    const naive = forecastSeasonalNaive(fitSeasonalNaive(training, period), window, 0.5);
    actual.forEach((y, i) => {
      modelError += Math.abs(y - predicted[i].mean);
      naiveError += Math.abs(y - naive[i].mean);
    });
    origins++;
  }
  if (origins === 0) return null;
  const count = origins * window;
  return { origins, window, modelMae: modelError / count, naiveMae: naiveError / count, usedNaive: modelError > naiveError };
}

function forecastChosen(chosen: Chosen, horizon: number, level: number): IntervalPoint[] {
  return chosen.fit ? forecastEts(chosen.fit, horizon, level) : forecastSeasonalNaive(chosen.naive, horizon, level);
}

function describe(chosen: Chosen): ForecastModel {
  if (!chosen.fit) {
    const { period, sigma } = chosen.naive;
    return { kind: 'seasonal_naive', trend: 'none', season: period > 1 ? 'additive' : 'none', damped: false, period, alpha: 1, beta: 0, gamma: period > 1 ? 1 : 0, phi: 0, sigma, aic: null, aicc: null };
  }
  const { spec, params, sigma, aic, aicc } = chosen.fit;
  return { kind: kindOf(spec), trend: spec.trend, season: spec.season, damped: spec.trend === 'damped', period: spec.period, ...params, sigma, aic, aicc };
}

/** Smoothing forgets the distant past: a long series is fitted on its recent part, enough for four seasons. */
function recentPart(values: readonly number[], periods: readonly number[]): readonly number[] {
  return values.slice(-Math.max(MAX_FIT_POINTS, 4 * Math.max(1, ...periods)));
}

/** The chosen model refitted on the series without its last points, scored on those points. */
function holdoutAccuracy(training: readonly number[], actual: readonly number[], selection: Selection, level: number): HoldoutAccuracy {
  const period = selection.naivePeriod;
  const { chosen } = selection;
  const refitted: Chosen = chosen.fit ? { fit: fitEts(recentPart(training, [chosen.fit.spec.period]), chosen.fit.spec) } : { naive: fitSeasonalNaive(training, chosen.naive.period) };
  const predicted = forecastChosen(refitted, actual.length, level);
  const naive = forecastSeasonalNaive(fitSeasonalNaive(training, period), actual.length, level);
  let absError = 0;
  let sqError = 0;
  let naiveAbs = 0;
  let naiveSq = 0;
  let covered = 0;
  for (let i = 0; i < actual.length; i++) {
    const e = actual[i] - predicted[i].mean;
    absError += Math.abs(e);
    sqError += e * e;
    const en = actual[i] - naive[i].mean;
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
