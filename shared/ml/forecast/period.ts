/**
 * Seasonal period detection from the autocorrelation function (ACF), shared by forecasting and the
 * streaming detector's warm-up.
 */
import { lineOf } from './states.js';

export interface PeriodOptions {
  /** Smallest period considered (default 2). */
  minPeriod?: number;
  /** Largest period considered (default floor(n / 2.5): two full cycles and a bit must be visible). */
  maxPeriod?: number;
  /** An ACF peak must reach this height to count as a season (default 0.25). */
  minStrength?: number;
}

export interface DetectedPeriod {
  /** 1 when no season was found. */
  period: number;
  /** ACF at the period (0 when none). */
  strength: number;
}

/**
 * Sample autocorrelation of the series, after removing its least-squares line, for lags 0..maxLag. Each lag's sum is
 * divided by its own number of pairs: the usual 1/n form shrinks long lags and pulls peaks to a lag too short.
 */
export function autocorrelation(values: ArrayLike<number>, maxLag: number): Float64Array {
  const n = values.length;
  const x = detrend(values);
  let denom = 0;
  for (let i = 0; i < n; i++) denom += x[i] * x[i];
  const acf = new Float64Array(maxLag + 1);
  if (denom === 0) return acf;
  for (let lag = 0; lag <= maxLag && lag < n; lag++) {
    let s = 0;
    for (let i = lag; i < n; i++) s += x[i] * x[i - lag];
    acf[lag] = (s / (n - lag)) / (denom / n);
  }
  return acf;
}

/** Residuals of a least-squares line: a trend would otherwise put a slow ACF decay where the season should show. */
function detrend(values: ArrayLike<number>): Float64Array {
  const { intercept, slope } = lineOf(values, values.length);
  return Float64Array.from({ length: values.length }, (_, t) => values[t] - intercept - slope * t);
}

/**
 * The seasonal period: the first ACF peak that is within 90 % of the highest one (so the fundamental wins over its
 * harmonics at 2P, 3P), that is a local maximum, that reaches `minStrength`, and that rises at least 0.1 above the
 * trough before it (so the slow decay of a smooth, autocorrelated series is not taken for a season).
 */
export function detectPeriod(values: ArrayLike<number>, options: PeriodOptions = {}): DetectedPeriod {
  const n = values.length;
  const minPeriod = Math.max(2, options.minPeriod ?? 2);
  const maxPeriod = Math.min(options.maxPeriod ?? Math.floor(n / 2.5), n - 2);
  const minStrength = options.minStrength ?? 0.25;
  if (maxPeriod < minPeriod) return { period: 1, strength: 0 };
  const acf = autocorrelation(values, maxPeriod + 1);
  const peaks: { lag: number; value: number }[] = [];
  let trough = acf[0];
  for (let lag = 1; lag <= maxPeriod; lag++) {
    trough = Math.min(trough, acf[lag]);
    const isPeak = acf[lag] >= acf[lag - 1] && acf[lag] > acf[lag + 1];
    if (lag >= minPeriod && isPeak && acf[lag] >= minStrength && acf[lag] - trough >= 0.1) peaks.push({ lag, value: acf[lag] });
  }
  if (peaks.length === 0) return { period: 1, strength: 0 };
  const best = Math.max(...peaks.map((p) => p.value));
  const chosen = peaks.find((p) => p.value >= 0.9 * best) ?? peaks[0];
  return { period: chosen.lag, strength: chosen.value };
}

const DAY = 86_400_000;

/** Whether a step is within 1 % of a whole-number fraction of `span`; returns that number (0 when not). */
function stepsIn(span: number, stepMs: number): number {
  const k = Math.round(span / stepMs);
  return k >= 1 && Math.abs(k * stepMs - span) <= 0.01 * span ? k : 0;
}

/**
 * The season the sampling step suggests: the daily cycle for steps that divide a day (24 for hourly data), the week for
 * daily data, the year for weekly, monthly and quarterly data; 1 when the calendar suggests none (yearly data).
 */
export function calendarPeriod(stepMs: number): number {
  if (!(stepMs > 0)) return 1;
  if (stepMs < DAY) {
    const perDay = stepsIn(DAY, stepMs);
    return perDay >= 2 && perDay <= 1440 ? perDay : 1;
  }
  if (stepsIn(DAY, stepMs) === 1) return 7;
  if (stepsIn(7 * DAY, stepMs) === 1) return 52;
  const days = stepMs / DAY;
  if (days >= 28 && days <= 31) return 12;
  if (days >= 89 && days <= 92) return 4;
  return 1;
}

/**
 * Season lengths worth trying, each with at least two cycles in the series: the calendar's, then the ACF peaks of the
 * series (line removed) and of its first differences. Differencing removes a curved trend too (CO2's accelerating
 * rise), whose slow swing would otherwise drown the season in the ACF. Model selection decides among them.
 */
export function candidatePeriods(values: readonly number[], stepMs = 0): number[] {
  const differences = values.slice(1).map((v, i) => v - values[i]);
  const found = [calendarPeriod(stepMs), detectPeriod(values).period, detectPeriod(differences).period];
  return [...new Set(found)].filter((p) => p > 1 && values.length >= 2 * p + 2);
}
