import { detectPeriod } from '../forecast/period.js';
import { lineOf } from '../forecast/states.js';
import { initialOnsetState } from './onset.js';
import type { ModelState, StreamingConfig } from './state.js';
import { flatScale, median, robustSigma } from './stats.js';

/** Damping keeps a learned trend from running away between alarms. */
const PHI = 0.998;
const ALPHAS = [0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7];
const BETAS = [0, 0.005, 0.03];
const GAMMAS = [0.05, 0.15, 0.3];
/** Residuals beyond this many sigma move the model only this far (Huber clipping): one spike cannot drag the level. */
export const CLIP_SIGMA = 3;
/** For normal noise, sigma = sqrt(pi/2) x mean absolute deviation. */
export const ABS_TO_SIGMA = Math.sqrt(Math.PI / 2);

interface Initial {
  period: number;
  level: number;
  trend: number;
  season: Float64Array;
  sigma: number;
  sigmaFloor: number;
  repeatRate: number;
}

/**
 * Fits the model on the warm-up buffer and returns it as it stands before the buffer's first point:
 * season length (ACF), initial level/trend/season (a line plus per-phase medians), initial spread
 * (MAD of seasonal differences) and the smoothing constants with the lowest robust one-step error.
 */
export function fitWarmup(buffer: readonly number[], config: StreamingConfig): ModelState {
  const initial = initialState(buffer, config);
  const { alpha, beta, gamma } = chooseSmoothing(buffer, initial);
  return {
    period: initial.period,
    phase: 0,
    alpha,
    beta,
    gamma,
    phi: PHI,
    level: initial.level,
    trend: initial.trend,
    season: Array.from(initial.season),
    meanAbs: initial.sigma / ABS_TO_SIGMA,
    sigmaFloor: initial.sigmaFloor,
    q99: 2.5758,
    q999: 3.2905,
    cusumPos: 0,
    cusumNeg: 0,
    runPos: [0, 0, 0],
    runNeg: [0, 0, 0],
    varShort: 1,
    varLong: 1,
    varLongSq: 3,
    lastZ: 0,
    shiftAge: 300,
    shiftSign: 0,
    boost: 0,
    repeatRate: initial.repeatRate,
    repeatRun: 0,
    last: buffer[0],
    ...initialOnsetState(buffer),
  };
}

function initialState(buffer: readonly number[], config: StreamingConfig): Initial {
  const n = buffer.length;
  const maxPeriod = Math.min(config.maxPeriod, Math.floor(n / 2));
  // A buffer that mostly sits at one value (a flat metric with blips) has no cycle to learn: its per-phase medians would be blips.
  const period = config.period ?? (robustSigma(buffer) === 0 ? 1 : refinePeriod(buffer, detectPeriod(buffer, { maxPeriod }).period));
  // Whole cycles only, so the line is not tilted by a half season at the end.
  const used = period > 1 && n >= 2 * period ? Math.floor(n / period) * period : n;
  const { intercept, slope } = lineOf(buffer, used);
  const season = new Float64Array(period);
  if (period > 1) {
    for (let phase = 0; phase < period; phase++) {
      const deviations: number[] = [];
      for (let t = phase; t < used; t += period) deviations.push(buffer[t] - (intercept + slope * t));
      season[phase] = median(deviations);
    }
    const centre = season.reduce((s, v) => s + v, 0) / period;
    for (let i = 0; i < period; i++) season[i] -= centre;
  }
  const lag = Math.max(1, period);
  const diffs: number[] = [];
  let repeats = 0;
  for (let t = lag; t < n; t++) diffs.push(buffer[t] - buffer[t - lag]);
  for (let t = 1; t < n; t++) if (buffer[t] === buffer[t - 1]) repeats++;
  // A flat warm-up (spread 0) still gets a scale, and any departure from it is news.
  const sigmaFloor = flatScale(buffer);
  let sigma = robustSigma(diffs) / Math.SQRT2;
  // Quantised series can have a MAD of 0 while still moving: fall back to the mean absolute difference.
  if (!(sigma > sigmaFloor)) sigma = (diffs.reduce((s, d) => s + Math.abs(d), 0) / Math.max(1, diffs.length)) * (Math.sqrt(Math.PI) / 2) / Math.SQRT2;
  return {
    period,
    level: intercept - slope,
    trend: slope,
    season,
    sigma: Math.max(sigma, sigmaFloor),
    sigmaFloor,
    repeatRate: repeats / Math.max(1, n - 1),
  };
}

/**
 * On a buffer of two or three cycles the ACF peak can land a lag off, and a season one point too short drifts out of
 * phase within a day: keep the neighbour (up to 2 lags away) whose seasonal differences are smallest.
 */
export function refinePeriod(values: readonly number[], period: number): number {
  if (period <= 3) return period;
  let best = period;
  let bestError = Infinity;
  for (let p = period - 2; p <= period + 2; p++) {
    if (2 * p > values.length) continue;
    let total = 0;
    for (let t = p; t < values.length; t++) total += Math.abs(values[t] - values[t - p]);
    const error = total / (values.length - p);
    if (error < bestError) {
      bestError = error;
      best = p;
    }
  }
  return best;
}

/** Grid search: mean absolute one-step error (robust to anomalies in the buffer) over the buffer after a burn-in. */
function chooseSmoothing(buffer: readonly number[], initial: Initial): { alpha: number; beta: number; gamma: number } {
  const gammas = initial.period > 1 ? GAMMAS : [0];
  let best = { alpha: 0.1, beta: 0, gamma: gammas[0] };
  let bestError = Infinity;
  for (const alpha of ALPHAS) {
    for (const beta of BETAS) {
      for (const gamma of gammas) {
        const error = robustOneStepError(buffer, initial, alpha, beta, gamma);
        if (error < bestError) {
          bestError = error;
          best = { alpha, beta, gamma };
        }
      }
    }
  }
  return best;
}

function robustOneStepError(buffer: readonly number[], initial: Initial, alpha: number, beta: number, gamma: number): number {
  const season = Float64Array.from(initial.season);
  const period = initial.period;
  const burnIn = Math.min(Math.floor(buffer.length / 4), Math.max(period, 8));
  let level = initial.level;
  let trend = initial.trend;
  let meanAbs = initial.sigma / ABS_TO_SIGMA;
  let total = 0;
  for (let t = 0; t < buffer.length; t++) {
    const phase = t % period;
    const r = buffer[t] - (level + PHI * trend + season[phase]);
    const limit = CLIP_SIGMA * Math.max(ABS_TO_SIGMA * meanAbs, initial.sigmaFloor);
    const rc = r > limit ? limit : r < -limit ? -limit : r;
    level += PHI * trend + alpha * rc;
    trend = PHI * trend + beta * rc;
    season[phase] += gamma * rc;
    meanAbs += 0.02 * (Math.abs(rc) - meanAbs);
    if (t >= burnIn) total += Math.abs(r) > 6 * limit ? 6 * limit : Math.abs(r);
  }
  return total;
}
