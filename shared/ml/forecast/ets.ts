import { createRng, gaussian } from '../multivariate/rng.js';
import { normalQuantile } from '../streaming/stats.js';
import { minimise, type Minimum } from './nelderMead.js';
import { hasTrend, initialStates, leastSquaresStates, phiOf, predictOne, runEts, updateStates, type EtsKind, type EtsParams, type EtsSpec, type States } from './states.js';

export type { EtsKind, EtsParams, EtsSpec, SeasonKind, TrendKind } from './states.js';

/**
 * Exponential smoothing with additive errors (the ETS(A,·,·) state-space family of Hyndman et al. 2008): a level, an
 * optional trend (plain or damped) and an optional season (added, or multiplied into level + trend).
 */
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

function sigmoid(u: number): number {
  return 1 / (1 + Math.exp(-u));
}

/** Free smoothing parameters of a spec: alpha, then beta with a trend, gamma with a season, phi when damped. */
function smoothingCount(spec: EtsSpec): number {
  return 1 + (hasTrend(spec) ? 1 : 0) + (spec.season !== 'none' ? 1 : 0) + (spec.trend === 'damped' ? 1 : 0);
}

/** Unconstrained vector -> admissible parameters (the usual region): 0 < beta < alpha, 0 < gamma < 1 - alpha, 0.8 < phi < 0.98. */
function toParams(u: readonly number[], spec: EtsSpec): EtsParams {
  // The vector holds alpha, then beta with a trend, gamma with a season, phi when damped.
  const at = { beta: 1, gamma: hasTrend(spec) ? 2 : 1, phi: smoothingCount(spec) - 1 };
  const alpha = 0.0001 + 0.9998 * sigmoid(u[0]);
  const beta = hasTrend(spec) ? alpha * sigmoid(u[at.beta]) : 0;
  const gamma = spec.season !== 'none' ? (1 - alpha) * sigmoid(u[at.gamma]) : 0;
  const phi = spec.trend === 'damped' ? 0.8 + 0.18 * sigmoid(u[at.phi]) : 1;
  return { alpha, beta, gamma, phi };
}

/**
 * Whether the initial states can be solved by least squares: the model must be linear in them (no multiplicative
 * season), and the normal equations cheap enough, their cost growing with points x states².
 */
function solvableStates(n: number, spec: EtsSpec): boolean {
  const states = 1 + (hasTrend(spec) ? 1 : 0) + (spec.season === 'additive' ? spec.period - 1 : 0);
  return spec.season !== 'multiplicative' && n * states * states <= 5e7;
}

/** Typical size of a one-step change: the unit in which the optimiser moves the initial level and trend. */
function stepScale(values: readonly number[]): number {
  let s = 0;
  for (let t = 1; t < values.length; t++) s += Math.abs(values[t] - values[t - 1]);
  return s / Math.max(1, values.length - 1) || 1;
}

/**
 * Fits by maximum likelihood (for Gaussian additive errors: least one-step SSE). Nelder-Mead moves the smoothing
 * parameters and the initial level and trend; for models without a multiplicative season, the initial states are then
 * solved exactly by least squares and the parameters refitted, until that no longer helps.
 */
export function fitEts(values: readonly number[], spec: EtsSpec): EtsFit {
  const smoothing = smoothingCount(spec);
  const scale = stepScale(values);
  let init = initialStates(values, spec);
  const statesOf = (u: readonly number[]): States => ({
    level: init.level + scale * u[smoothing],
    trend: hasTrend(spec) ? init.trend + (scale / 10) * u[smoothing + 1] : 0,
    season: init.season,
  });
  const objective = (u: readonly number[]): number => runEts(values, spec, toParams(u, spec), statesOf(u)).sse;
  const offsets = hasTrend(spec) ? [0, 0] : [0];
  // Start near the usual textbook values: alpha 0.27, beta/alpha 0.12, gamma/(1-alpha) 0.12, phi 0.95.
  const start = [-1, ...(hasTrend(spec) ? [-2] : []), ...(spec.season !== 'none' ? [-2] : []), ...(spec.trend === 'damped' ? [1.5] : []), ...offsets];
  let solution: Minimum = minimise(objective, start);
  for (let round = 0; round < 3 && solvableStates(values.length, spec); round++) {
    const solved = leastSquaresStates(values, spec, toParams(solution.x, spec));
    if (runEts(values, spec, toParams(solution.x, spec), solved).sse >= solution.value * (1 - 1e-6)) break;
    init = solved;
    solution = minimise(objective, [...solution.x.slice(0, smoothing), ...offsets]);
  }
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

const SIMULATED_PATHS = 1000;

/** Quantiles of simulated futures, step by step, so memory holds the paths' states and not every draw of every step. */
function simulatedIntervals(fit: EtsFit, means: readonly number[], level: number): IntervalPoint[] {
  const uniform = createRng(0x5eed);
  const phi = phiOf(fit.spec, fit.params);
  const paths: States[] = Array.from({ length: SIMULATED_PATHS }, () => ({ level: fit.level, trend: fit.trend, season: Float64Array.from(fit.season) }));
  // A path that leaves the model's domain (level + trend <= 0) stays at its last value.
  const last = new Float64Array(SIMULATED_PATHS).fill(means[0]);
  const tail = (1 - level) / 2;
  return means.map((mean, h) => {
    const t = fit.n + h;
    paths.forEach((s, i) => {
      const predicted = predictOne(fit.spec, phi, s, t);
      if (!Number.isFinite(predicted)) return;
      const e = fit.sigma * gaussian(uniform);
      last[i] = predicted + e;
      updateStates(fit.spec, fit.params, phi, s, t, e);
    });
    const sorted = Float64Array.from(last).sort();
    return { mean, lower: sorted[Math.floor(tail * (SIMULATED_PATHS - 1))], upper: sorted[Math.ceil((1 - tail) * (SIMULATED_PATHS - 1))] };
  });
}
