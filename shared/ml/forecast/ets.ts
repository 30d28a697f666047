import { createRng, gaussian } from '../multivariate/rng.js';
import { normalQuantile } from '../streaming/stats.js';
import { minimise } from './nelderMead.js';

/**
 * Exponential smoothing with additive errors (the ETS(A,·,·) state-space family of Hyndman et al. 2008): a level, an
 * optional trend (plain or damped) and an optional season (added, or multiplied into level + trend).
 */
export type TrendKind = 'none' | 'additive' | 'damped';
export type SeasonKind = 'none' | 'additive' | 'multiplicative';
/** The names the API has always used: simple (level only), holt (with trend), holt_winters (with a season). */
export type EtsKind = 'simple' | 'holt' | 'holt_winters';

export interface EtsSpec {
  trend: TrendKind;
  season: SeasonKind;
  /** Season length; 1 when season is 'none'. */
  period: number;
}

export interface EtsParams {
  alpha: number;
  beta: number;
  gamma: number;
  phi: number;
}

export interface EtsFit {
  spec: EtsSpec;
  params: EtsParams;
  /** States after the last observation. */
  level: number;
  trend: number;
  /** season[t mod period] applies to time t; the fitted series covers t = 0..n-1. */
  season: number[];
  n: number;
  sse: number;
  /** Residual standard deviation of the one-step errors. */
  sigma: number;
  /** Estimated parameters: smoothing parameters, initial states and the error variance. */
  parameterCount: number;
  aic: number;
  /** AIC with the small-sample correction; what model selection compares. */
  aicc: number;
}

export interface IntervalPoint {
  mean: number;
  lower: number;
  upper: number;
}

export function kindOf(spec: EtsSpec): EtsKind {
  if (spec.season !== 'none') return 'holt_winters';
  return spec.trend === 'none' ? 'simple' : 'holt';
}

interface States {
  level: number;
  trend: number;
  season: Float64Array;
}

const hasTrend = (spec: EtsSpec): boolean => spec.trend !== 'none';
const phiOf = (spec: EtsSpec, params: EtsParams): number => (spec.trend === 'damped' ? params.phi : hasTrend(spec) ? 1 : 0);

/** One-step prediction from the states for time t; NaN when a multiplicative model leaves its domain. */
function predictOne(spec: EtsSpec, phi: number, s: States, t: number): number {
  const base = s.level + phi * s.trend;
  if (spec.season === 'none') return base;
  const factor = s.season[t % s.season.length];
  if (spec.season === 'additive') return base + factor;
  return base > 0 && factor > 0 ? base * factor : Number.NaN;
}

/** The error-correction update of the states after observing error e at time t. */
function updateStates(spec: EtsSpec, params: EtsParams, phi: number, s: States, t: number, e: number): void {
  const base = s.level + phi * s.trend;
  const i = t % s.season.length;
  // With a multiplicative season the level and trend see the error on the deseasonalised scale.
  const r = spec.season === 'multiplicative' ? e / s.season[i] : e;
  if (spec.season === 'additive') s.season[i] += params.gamma * e;
  else if (spec.season === 'multiplicative') s.season[i] += (params.gamma * e) / base;
  s.level = base + params.alpha * r;
  s.trend = phi * s.trend + params.beta * r;
}

/** One pass of the recursions; SSE is Infinity when a multiplicative model leaves its domain. */
function runEts(values: readonly number[], spec: EtsSpec, params: EtsParams, init: States): { sse: number; states: States } {
  const s: States = { level: init.level, trend: init.trend, season: Float64Array.from(init.season) };
  const phi = phiOf(spec, params);
  let sse = 0;
  for (let t = 0; t < values.length; t++) {
    const predicted = predictOne(spec, phi, s, t);
    if (!Number.isFinite(predicted)) return { sse: Infinity, states: s };
    const e = values[t] - predicted;
    sse += e * e;
    updateStates(spec, params, phi, s, t, e);
  }
  return { sse, states: s };
}

/** Least-squares line through values[0..span). */
function lineOf(values: readonly number[], span: number): { intercept: number; slope: number } {
  const tMean = (span - 1) / 2;
  let yMean = 0;
  for (let t = 0; t < span; t++) yMean += values[t];
  yMean /= span;
  let sxy = 0;
  let sxx = 0;
  for (let t = 0; t < span; t++) {
    sxy += (t - tMean) * (values[t] - yMean);
    sxx += (t - tMean) * (t - tMean);
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { intercept: yMean - slope * tMean, slope };
}

/**
 * Starting states from a line through the first cycles (up to three) and the mean seasonal departure from it; the
 * level and trend are then refined with the smoothing parameters, the seasonal states stay as estimated here.
 */
function initialStates(values: readonly number[], spec: EtsSpec): States {
  const p = spec.period;
  const season = new Float64Array(p);
  const span = spec.season === 'none' ? Math.min(values.length, 10) : Math.min(Math.floor(values.length / p), 3) * p;
  const { intercept, slope } = lineOf(values, span);
  if (spec.season !== 'none') {
    for (let t = 0; t < span; t++) {
      const line = intercept + slope * t;
      season[t % p] += (spec.season === 'additive' ? values[t] - line : values[t] / line) / (span / p);
    }
    // Zero-sum (additive) or unit-mean (multiplicative) seasonal states, so the level carries the whole level.
    const centre = season.reduce((a, v) => a + v, 0) / p;
    for (let i = 0; i < p; i++) season[i] = spec.season === 'additive' ? season[i] - centre : season[i] / centre;
  }
  if (!hasTrend(spec)) return { level: intercept + slope * ((span - 1) / 2), trend: 0, season };
  // The states sit at t = -1, one step before the first observation.
  return { level: intercept - slope, trend: slope, season };
}

function sigmoid(u: number): number {
  return 1 / (1 + Math.exp(-u));
}

/** Free smoothing parameters of a spec: alpha, then beta with a trend, gamma with a season, phi when damped. */
function smoothingCount(spec: EtsSpec): number {
  return 1 + (hasTrend(spec) ? 1 : 0) + (spec.season !== 'none' ? 1 : 0) + (spec.trend === 'damped' ? 1 : 0);
}

/** Unconstrained vector -> admissible parameters (the usual region): 0 < beta < alpha, 0 < gamma < 1 - alpha, 0.8 < phi < 0.98. */
function toParams(u: readonly number[], spec: EtsSpec): EtsParams {
  let k = 0;
  const alpha = 0.0001 + 0.9998 * sigmoid(u[k++]);
  const beta = hasTrend(spec) ? alpha * sigmoid(u[k++]) : 0;
  const gamma = spec.season !== 'none' ? (1 - alpha) * sigmoid(u[k++]) : 0;
  const phi = spec.trend === 'damped' ? 0.8 + 0.18 * sigmoid(u[k++]) : 1;
  return { alpha, beta, gamma, phi };
}

/** Typical size of a one-step change: the unit in which the optimiser moves the initial level and trend. */
function stepScale(values: readonly number[]): number {
  let s = 0;
  for (let t = 1; t < values.length; t++) s += Math.abs(values[t] - values[t - 1]);
  return s / Math.max(1, values.length - 1) || 1;
}

/**
 * Fits by maximum likelihood (for Gaussian additive errors: least one-step SSE) over the smoothing parameters and the
 * initial level and trend, with restarted Nelder-Mead.
 */
export function fitEts(values: readonly number[], spec: EtsSpec): EtsFit {
  const init = initialStates(values, spec);
  const smoothing = smoothingCount(spec);
  const scale = stepScale(values);
  const statesOf = (u: readonly number[]): States => ({
    level: init.level + scale * u[smoothing],
    trend: hasTrend(spec) ? init.trend + (scale / 10) * u[smoothing + 1] : 0,
    season: init.season,
  });
  const objective = (u: readonly number[]): number => runEts(values, spec, toParams(u, spec), statesOf(u)).sse;
  // Start near the usual textbook values: alpha 0.27, beta/alpha 0.12, gamma/(1-alpha) 0.12, phi 0.95.
  const start = [-1, ...(hasTrend(spec) ? [-2] : []), ...(spec.season !== 'none' ? [-2] : []), ...(spec.trend === 'damped' ? [1.5] : []), 0, ...(hasTrend(spec) ? [0] : [])];
  const solution = minimise(objective, start);
  const params = toParams(solution.x, spec);
  const run = runEts(values, spec, params, statesOf(solution.x));
  const n = values.length;
  const parameterCount = smoothing + 1 + (hasTrend(spec) ? 1 : 0) + (spec.season !== 'none' ? spec.period - 1 : 0) + 1;
  const sse = Math.max(run.sse, 1e-300 * n);
  const logLikelihood = -0.5 * n * (Math.log((2 * Math.PI * sse) / n) + 1);
  const aic = -2 * logLikelihood + 2 * parameterCount;
  const aicc = n - parameterCount - 1 > 0 ? aic + (2 * parameterCount * (parameterCount + 1)) / (n - parameterCount - 1) : Infinity;
  return {
    spec,
    params,
    level: run.states.level,
    trend: run.states.trend,
    season: Array.from(run.states.season),
    n,
    sse: run.sse,
    sigma: Math.sqrt(run.sse / Math.max(1, n - parameterCount)),
    parameterCount,
    aic,
    aicc,
  };
}

/** Point forecasts: level plus the (damped) trend, with the season added or multiplied in. */
function meanPath(fit: EtsFit, horizon: number): number[] {
  const phi = phiOf(fit.spec, fit.params);
  const p = fit.season.length;
  const out: number[] = [];
  let dampedSum = 0;
  let phiPower = 1;
  for (let h = 1; h <= horizon; h++) {
    phiPower *= phi;
    dampedSum += phiPower;
    const base = fit.level + dampedSum * fit.trend;
    const factor = fit.season[(fit.n + h - 1) % p];
    out.push(fit.spec.season === 'multiplicative' ? base * factor : fit.spec.season === 'additive' ? base + factor : base);
  }
  return out;
}

/**
 * h-step forecasts with prediction intervals covering `level`. Additive models have the exact variance (Hyndman et
 * al. 2008, class 1): sigma^2 (1 + sum_{j<h} c_j^2), c_j = alpha + beta (phi + ... + phi^j) + gamma [j mod m = 0].
 * A multiplicative season has no closed form: its intervals come from simulated sample paths (seeded, so repeatable).
 */
export function forecastEts(fit: EtsFit, horizon: number, level: number): IntervalPoint[] {
  const means = meanPath(fit, horizon);
  if (fit.spec.season === 'multiplicative') return simulatedIntervals(fit, means, level);
  const z = normalQuantile(0.5 + level / 2);
  const { alpha, beta, gamma } = fit.params;
  const phi = phiOf(fit.spec, fit.params);
  const p = fit.season.length;
  let dampedSum = 0;
  let phiPower = 1;
  let varianceSum = 1;
  return means.map((mean, i) => {
    const half = z * fit.sigma * Math.sqrt(varianceSum);
    const j = i + 1;
    phiPower *= phi;
    dampedSum += phiPower;
    const cj = alpha + beta * dampedSum + (fit.spec.season !== 'none' && j % p === 0 ? gamma : 0);
    varianceSum += cj * cj;
    return { mean, lower: mean - half, upper: mean + half };
  });
}

const SIMULATED_PATHS = 2000;

function simulatedIntervals(fit: EtsFit, means: readonly number[], level: number): IntervalPoint[] {
  const horizon = means.length;
  const draws = Array.from({ length: horizon }, () => new Float64Array(SIMULATED_PATHS));
  const uniform = createRng(0x5eed);
  const phi = phiOf(fit.spec, fit.params);
  for (let path = 0; path < SIMULATED_PATHS; path++) {
    const s: States = { level: fit.level, trend: fit.trend, season: Float64Array.from(fit.season) };
    for (let h = 0; h < horizon; h++) {
      const t = fit.n + h;
      const predicted = predictOne(fit.spec, phi, s, t);
      const e = fit.sigma * gaussian(uniform);
      // A path that leaves the model's domain (level + trend <= 0) stays where it was.
      draws[h][path] = Number.isFinite(predicted) ? predicted + e : draws[Math.max(0, h - 1)][path];
      if (Number.isFinite(predicted)) updateStates(fit.spec, fit.params, phi, s, t, e);
    }
  }
  const tail = (1 - level) / 2;
  return means.map((mean, h) => {
    const sorted = draws[h].sort();
    return { mean, lower: sorted[Math.floor(tail * (SIMULATED_PATHS - 1))], upper: sorted[Math.ceil((1 - tail) * (SIMULATED_PATHS - 1))] };
  });
}
