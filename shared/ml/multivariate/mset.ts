/**
 * MSET-style similarity model (Multivariate State Estimation Technique, Singer et al. 1997): a memory
 * matrix D of m training states (standardised rows) and a non-linear similarity operator
 * s(x, y) = exp(-gamma ||x - y||²). A row z is estimated as
 *
 *   ẑ = Dᵀ (G + λI)⁻¹ s(D, z),   G = s(D, D),
 *
 * i.e. the combination of remembered states that best explains z under the similarity, and its
 * residual z - ẑ is the anomaly evidence: raw score = mean squared residual, contribution of a
 * feature = its squared residual. W = (G + λI)⁻¹ D is precomputed, so scoring is
 * ẑ = exp(-gamma (|z|² - 2 z Dᵀ + |d|²)) W: two matrix products, which the ONNX export reproduces.
 *
 * Memory selection is the classic one: for each feature the training rows holding its minimum and
 * maximum, then rows at even steps of the ordered row norms until m states are held.
 */
import { assertValidMatrix, standardise, standardisedTraining, type Matrix } from './matrix.js';
import { InvalidInputError } from './errors.js';
import type { RawScores } from './raw-scores.js';

export interface MsetOptions {
  /** Extra std per feature, added in quadrature to the training std (see trendAllowance). */
  scaleAllowance?: number[];
  /** States kept in the memory matrix (default 120, at most the training rows). */
  memorySize?: number;
  /**
   * Kernel width h in standard units, gamma = 1 / (2 h²). Default: the median distance from each
   * memory state to its nearest other state, times `bandwidthFactor`.
   */
  bandwidth?: number;
  /** Multiplies the default bandwidth (default 2). */
  bandwidthFactor?: number;
  /** Ridge λ added to the similarity matrix's diagonal (default 1e-3). */
  regularisation?: number;
}

export interface MsetModel {
  kind: 'mset';
  mean: number[];
  std: number[];
  /** m x p memory states (standardised), row-major. */
  memory: number[];
  /** |d_i|² of each memory state. */
  memoryNorms: number[];
  /** m x p: (G + λI)⁻¹ D, row-major. */
  weights: number[];
  gamma: number;
}

const DEFAULT_MEMORY = 120;

function checkOptions(o: MsetOptions): void {
  if (o.memorySize !== undefined && !(Number.isInteger(o.memorySize) && o.memorySize >= 2)) {
    throw new InvalidInputError('bad-option', `memorySize must be an integer of 2 or more, got ${o.memorySize}`);
  }
  for (const [name, v] of [['bandwidth', o.bandwidth], ['bandwidthFactor', o.bandwidthFactor]] as const) {
    if (v !== undefined && !(v > 0 && Number.isFinite(v))) throw new InvalidInputError('bad-option', `${name} must be a positive number, got ${v}`);
  }
  if (o.regularisation !== undefined && !(o.regularisation >= 0 && Number.isFinite(o.regularisation))) {
    throw new InvalidInputError('bad-option', `regularisation must be 0 or more, got ${o.regularisation}`);
  }
}

/** Min/max rows of every feature, then rows at even steps of the sorted norms, without repeats. */
function selectMemory(z: Matrix, size: number): number[] {
  const { rows, cols, data } = z;
  const m = Math.min(size, rows);
  const chosen = new Set<number>();
  for (let c = 0; c < cols && chosen.size < m; c++) {
    let lo = 0;
    let hi = 0;
    for (let r = 1; r < rows; r++) {
      if (data[r * cols + c] < data[lo * cols + c]) lo = r;
      if (data[r * cols + c] > data[hi * cols + c]) hi = r;
    }
    chosen.add(lo);
    if (chosen.size < m) chosen.add(hi);
  }
  const norms = Array.from({ length: rows }, (_, r) => {
    let s = 0;
    for (let c = 0; c < cols; c++) s += data[r * cols + c] ** 2;
    return s;
  });
  const order = Array.from({ length: rows }, (_, r) => r).sort((a, b) => norms[a] - norms[b] || a - b);
  const rest = order.filter((r) => !chosen.has(r));
  const need = m - chosen.size;
  for (let i = 0; i < need; i++) chosen.add(rest[Math.floor(((i + 0.5) * rest.length) / need)]);
  return [...chosen].sort((a, b) => a - b);
}

function squaredDistance(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, p: number): number {
  let s = 0;
  for (let c = 0; c < p; c++) s += (a[ao + c] - b[bo + c]) ** 2;
  return s;
}

/** Cholesky solve of (A) X = B for SPD A (n x n) and B (n x k), both row-major; A is overwritten. */
function choleskySolve(a: Float64Array, n: number, b: Float64Array, k: number): Float64Array {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let t = 0; t < j; t++) d -= a[j * n + t] ** 2;
    if (!(d > 0)) throw new InvalidInputError('bad-option', 'the MSET similarity matrix is not positive definite; raise regularisation');
    const l = Math.sqrt(d);
    a[j * n + j] = l;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let t = 0; t < j; t++) s -= a[i * n + t] * a[j * n + t];
      a[i * n + j] = s / l;
    }
  }
  const x = Float64Array.from(b);
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < n; i++) {
      let s = x[i * k + c];
      for (let t = 0; t < i; t++) s -= a[i * n + t] * x[t * k + c];
      x[i * k + c] = s / a[i * n + i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = x[i * k + c];
      for (let t = i + 1; t < n; t++) s -= a[t * n + i] * x[t * k + c];
      x[i * k + c] = s / a[i * n + i];
    }
  }
  return x;
}

export function fitMset(train: Matrix, options: MsetOptions = {}): MsetModel {
  checkOptions(options);
  const { stats, z } = standardisedTraining(train, options.scaleAllowance);
  const p = train.cols;
  const idx = selectMemory(z, options.memorySize ?? DEFAULT_MEMORY);
  const m = idx.length;
  const memory = new Float64Array(m * p);
  idx.forEach((r, i) => memory.set(z.data.subarray(r * p, (r + 1) * p), i * p));
  const d2 = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) d2[i * m + j] = d2[j * m + i] = squaredDistance(memory, i * p, memory, j * p, p);
  let h = options.bandwidth;
  if (h === undefined) {
    const nearest = Array.from({ length: m }, (_, i) => {
      let best = Infinity;
      for (let j = 0; j < m; j++) if (j !== i && d2[i * m + j] > 0) best = Math.min(best, d2[i * m + j]);
      return Number.isFinite(best) ? Math.sqrt(best) : 1;
    }).sort((a, b) => a - b);
    h = Math.max(nearest[Math.floor(m / 2)], 1e-3) * (options.bandwidthFactor ?? 2);
  }
  const gamma = 1 / (2 * h * h);
  const lambda = options.regularisation ?? 1e-3;
  const g = Float64Array.from(d2, (v) => Math.exp(-gamma * v));
  for (let i = 0; i < m; i++) g[i * m + i] = 1 + lambda;
  const weights = choleskySolve(g, m, memory, p);
  const memoryNorms = Array.from({ length: m }, (_, i) => squaredDistance(memory, i * p, new Float64Array(p), 0, p));
  return { kind: 'mset', mean: stats.mean, std: stats.std, memory: Array.from(memory), memoryNorms, weights: Array.from(weights), gamma };
}

/** Mean squared residual against the similarity estimate, and each feature's squared residual. */
export function scoreMset(model: MsetModel, rows: Matrix): RawScores {
  const p = model.mean.length;
  assertValidMatrix(rows, { cols: p });
  const z = standardise(rows, model.mean, model.std).data;
  const m = model.memoryNorms.length;
  const memory = Float64Array.from(model.memory);
  const weights = Float64Array.from(model.weights);
  const raw = new Float64Array(rows.rows);
  const contributions = new Float64Array(rows.rows * p);
  const estimate = new Float64Array(p);
  for (let r = 0; r < rows.rows; r++) {
    const o = r * p;
    let zz = 0;
    for (let c = 0; c < p; c++) zz += z[o + c] * z[o + c];
    estimate.fill(0);
    for (let i = 0; i < m; i++) {
      let dot = 0;
      for (let c = 0; c < p; c++) dot += z[o + c] * memory[i * p + c];
      const s = Math.exp(-model.gamma * Math.max(0, zz - 2 * dot + model.memoryNorms[i]));
      if (s === 0) continue;
      for (let c = 0; c < p; c++) estimate[c] += s * weights[i * p + c];
    }
    let total = 0;
    for (let c = 0; c < p; c++) {
      const e = (z[o + c] - estimate[c]) ** 2;
      contributions[o + c] = e;
      total += e;
    }
    raw[r] = total / p;
  }
  return { raw, contributions };
}
