/**
 * The ETS(A,·,·) state recursions and their starting states: the part of the model that fitting, forecasting and
 * simulation share.
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

export interface States {
  level: number;
  trend: number;
  season: Float64Array;
}

export const hasTrend = (spec: EtsSpec): boolean => spec.trend !== 'none';
export const phiOf = (spec: EtsSpec, params: EtsParams): number => (spec.trend === 'damped' ? params.phi : hasTrend(spec) ? 1 : 0);

/** One-step prediction from the states for time t; NaN when a multiplicative model leaves its domain. */
export function predictOne(spec: EtsSpec, phi: number, s: States, t: number): number {
  const base = s.level + phi * s.trend;
  if (spec.season === 'none') return base;
  const factor = s.season[t % s.season.length];
  if (spec.season === 'additive') return base + factor;
  return base > 0 && factor > 0 ? base * factor : Number.NaN;
}

/** The error-correction update of the states after observing error e at time t. */
export function updateStates(spec: EtsSpec, params: EtsParams, phi: number, s: States, t: number, e: number): void {
  const base = s.level + phi * s.trend;
  const i = t % s.season.length;
  // With a multiplicative season the level and trend see the error on the deseasonalised scale.
  const r = spec.season === 'multiplicative' ? e / s.season[i] : e;
  if (spec.season === 'additive') s.season[i] += params.gamma * e;
  else if (spec.season === 'multiplicative') s.season[i] += (params.gamma * e) / base;
  s.level = base + params.alpha * r;
  s.trend = phi * s.trend + params.beta * r;
}

/** One pass of the recursions (one-step errors into `errors` when given); SSE is Infinity when a multiplicative model leaves its domain. */
export function runEts(values: ArrayLike<number>, spec: EtsSpec, params: EtsParams, init: States, errors?: Float64Array): { sse: number; states: States } {
  const s: States = { level: init.level, trend: init.trend, season: Float64Array.from(init.season) };
  const phi = phiOf(spec, params);
  let sse = 0;
  for (let t = 0; t < values.length; t++) {
    const predicted = predictOne(spec, phi, s, t);
    if (!Number.isFinite(predicted)) return { sse: Infinity, states: s };
    const e = values[t] - predicted;
    if (errors) errors[t] = e;
    sse += e * e;
    updateStates(spec, params, phi, s, t, e);
  }
  return { sse, states: s };
}

/**
 * The initial states that minimise the SSE for fixed smoothing parameters, for models without a multiplicative
 * season. Their one-step errors are linear in the initial states (a linear innovations state-space model): the errors
 * from zero states, plus one error series per state started at one on an all-zero series, weighted by that state. So
 * the best states solve a least-squares problem. The seasonal states are kept summing to zero: only their departures
 * from the level can be told apart from the level.
 */
export function leastSquaresStates(values: readonly number[], spec: EtsSpec, params: EtsParams): States {
  const n = values.length;
  const p = spec.period;
  const zero = (): States => ({ level: 0, trend: 0, season: new Float64Array(p) });
  const basis: States[] = [{ ...zero(), level: 1 }];
  if (hasTrend(spec)) basis.push({ ...zero(), trend: 1 });
  if (spec.season === 'additive') {
    for (let i = 0; i < p - 1; i++) {
      const season = new Float64Array(p);
      season[i] = 1;
      season[p - 1] = -1;
      basis.push({ level: 0, trend: 0, season });
    }
  }
  const silent = new Float64Array(n);
  const columns = basis.map((init) => {
    const errors = new Float64Array(n);
    runEts(silent, spec, params, init, errors);
    return errors;
  });
  const fromZero = new Float64Array(n);
  runEts(values, spec, params, zero(), fromZero);
  // errors(x) = fromZero + columns·x; minimise |errors(x)|² through the normal equations.
  const k = columns.length;
  const gram = Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => dot(columns[i], columns[j])));
  const rhs = columns.map((c) => -dot(c, fromZero));
  const x = solveSymmetric(gram, rhs);
  const out = zero();
  basis.forEach((b, j) => {
    out.level += x[j] * b.level;
    out.trend += x[j] * b.trend;
    for (let i = 0; i < p; i++) out.season[i] += x[j] * b.season[i];
  });
  return out;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Solves A x = b for a symmetric positive semi-definite A by Cholesky, with a small ridge so that a flat direction stays at 0. */
function solveSymmetric(a: readonly number[][], b: readonly number[]): number[] {
  const k = b.length;
  const ridge = 1e-10 * Math.max(1e-300, a.reduce((s, row, i) => s + row[i], 0) / k);
  const l = Array.from({ length: k }, () => new Float64Array(k));
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i][j] + (i === j ? ridge : 0);
      for (let r = 0; r < j; r++) s -= l[i][r] * l[j][r];
      l[i][j] = i === j ? Math.sqrt(Math.max(s, ridge)) : s / l[j][j];
    }
  }
  const y = new Array<number>(k).fill(0);
  for (let i = 0; i < k; i++) {
    let s = b[i];
    for (let r = 0; r < i; r++) s -= l[i][r] * y[r];
    y[i] = s / l[i][i];
  }
  const x = new Array<number>(k).fill(0);
  for (let i = k - 1; i >= 0; i--) {
    let s = y[i];
    for (let r = i + 1; r < k; r++) s -= l[r][i] * x[r];
    x[i] = s / l[i][i];
  }
  return x;
}

/** Least-squares line through values[0..span). */
export function lineOf(values: ArrayLike<number>, span: number): { intercept: number; slope: number } {
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

/** Starting states, before any fitting: a line through the first cycles (up to three) and the mean seasonal departure from it. */
export function initialStates(values: readonly number[], spec: EtsSpec): States {
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
