import { nelderMead } from './nelderMead.js';

/** Additive exponential smoothing: simple (level), Holt (level + trend), Holt-Winters (level + trend + additive season). */
export type EtsKind = 'simple' | 'holt' | 'holt_winters';

export interface EtsSpec {
  kind: EtsKind;
  damped: boolean;
  /** Season length; 1 unless holt_winters. */
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
  aic: number;
}

interface Run {
  sse: number;
  level: number;
  trend: number;
  season: Float64Array;
}

interface Initial {
  level: number;
  trend: number;
  season: Float64Array;
}

/** Classic initial states from the first one or two cycles, placed just before t = 0. */
function initialStates(values: readonly number[], spec: EtsSpec): Initial {
  const p = spec.kind === 'holt_winters' ? spec.period : 1;
  const season = new Float64Array(p);
  if (spec.kind === 'holt_winters') {
    const cycles = Math.min(Math.floor(values.length / p), 4);
    const cycleMeans: number[] = [];
    for (let c = 0; c < cycles; c++) cycleMeans.push(values.slice(c * p, (c + 1) * p).reduce((s, v) => s + v, 0) / p);
    for (let i = 0; i < p; i++) {
      let s = 0;
      for (let c = 0; c < cycles; c++) s += values[c * p + i] - cycleMeans[c];
      season[i] = s / cycles;
    }
    const trend = cycles >= 2 ? (cycleMeans[cycles - 1] - cycleMeans[0]) / ((cycles - 1) * p) : 0;
    return { level: cycleMeans[0] - trend * ((p + 1) / 2), trend, season };
  }
  const k = Math.min(10, values.length - 1);
  const trend = spec.kind === 'holt' ? (values[k] - values[0]) / k : 0;
  return { level: values[0] - trend, trend, season };
}

/** One pass of the error-correction recursions; returns the one-step SSE and the final states. */
function runEts(values: readonly number[], spec: EtsSpec, params: EtsParams, init: Initial): Run {
  const season = Float64Array.from(init.season);
  const p = season.length;
  const hasTrend = spec.kind !== 'simple';
  const phi = hasTrend ? params.phi : 0;
  let level = init.level;
  let trend = hasTrend ? init.trend : 0;
  let sse = 0;
  for (let t = 0; t < values.length; t++) {
    const i = t % p;
    const e = values[t] - (level + phi * trend + season[i]);
    sse += e * e;
    level = level + phi * trend + params.alpha * e;
    trend = phi * trend + params.beta * e;
    if (spec.kind === 'holt_winters') season[i] += params.gamma * e;
  }
  return { sse, level, trend, season };
}

function sigmoid(u: number): number {
  return 1 / (1 + Math.exp(-u));
}

/** Unconstrained vector -> admissible parameters: 0 < beta < alpha, 0 < gamma < 1 - alpha, 0.8 < phi < 0.98. */
function toParams(u: readonly number[], spec: EtsSpec): EtsParams {
  const alpha = 0.0001 + 0.9998 * sigmoid(u[0]);
  const beta = spec.kind === 'simple' ? 0 : alpha * sigmoid(u[1]);
  const gamma = spec.kind === 'holt_winters' ? (1 - alpha) * sigmoid(u[2]) : 0;
  const phi = spec.kind === 'simple' ? 0 : spec.damped ? 0.8 + 0.18 * sigmoid(u[3]) : 1;
  return { alpha, beta, gamma, phi };
}

/** Fits the smoothing parameters by minimising the one-step SSE with Nelder-Mead. */
export function fitEts(values: readonly number[], spec: EtsSpec): EtsFit {
  const init = initialStates(values, spec);
  const objective = (u: readonly number[]): number => runEts(values, spec, toParams(u, spec), init).sse;
  const dims = spec.kind === 'simple' ? 1 : spec.kind === 'holt' ? (spec.damped ? 4 : 2) : spec.damped ? 4 : 3;
  // Start near the usual textbook values: alpha 0.27, beta/alpha 0.12, gamma/(1-alpha) 0.12, phi 0.95.
  const solution = nelderMead(objective, [-1, -2, -2, 1.5].slice(0, dims));
  const params = toParams(solution.x, spec);
  const run = runEts(values, spec, params, init);
  const n = values.length;
  const parameterCount = dims + 1 + (spec.kind === 'simple' ? 0 : 1) + (spec.kind === 'holt_winters' ? spec.period - 1 : 0);
  const mse = Math.max(run.sse / n, 1e-300);
  return {
    spec,
    params,
    level: run.level,
    trend: run.trend,
    season: Array.from(run.season),
    n,
    sse: run.sse,
    sigma: Math.sqrt(run.sse / Math.max(1, n - parameterCount)),
    aic: n * Math.log(mse) + 2 * parameterCount,
  };
}

/**
 * h-step forecasts with normal prediction intervals. Variance of the h-step error for these additive models
 * (Hyndman et al. 2008, class 1): sigma^2 (1 + sum_{j<h} c_j^2), c_j = alpha + beta (phi + ... + phi^j) + gamma [j mod m = 0].
 */
export function forecastEts(fit: EtsFit, horizon: number, z: number): { mean: number; lower: number; upper: number }[] {
  const { alpha, beta, gamma, phi } = fit.params;
  const p = fit.season.length;
  const out: { mean: number; lower: number; upper: number }[] = [];
  let dampedSum = 0;
  let varianceSum = 1;
  let phiPower = 1;
  for (let h = 1; h <= horizon; h++) {
    phiPower *= phi;
    dampedSum += phiPower;
    const mean = fit.level + dampedSum * fit.trend + fit.season[(fit.n + h - 1) % p];
    const half = z * fit.sigma * Math.sqrt(varianceSum);
    out.push({ mean, lower: mean - half, upper: mean + half });
    // c_j for the next step uses j = h.
    const cj = alpha + beta * dampedSum + (fit.spec.kind === 'holt_winters' && h % p === 0 ? gamma : 0);
    varianceSum += cj * cj;
  }
  return out;
}
