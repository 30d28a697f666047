/**
 * PCA process monitoring: Hotelling T² in the principal subspace and SPE (Q) in the residual one,
 * combined into one index phi = T²/T²lim + Q/Qlim (Yue and Qin 2001). phi is a quadratic form
 * z' M z with M = P diag(1/lambda) P'/T²lim + (I - P P')/Qlim, which gives both the score and
 * reconstruction-based contributions (Alcala and Qin 2009): RBC_j = (M z)_j² / M_jj, non-negative
 * and naming the variable whose correction would reduce phi most.
 */
import { assertValidMatrix, standardise, standardisedTraining, type Matrix } from './matrix.js';
import { covarianceOfCentred, symmetricEigen } from './linalg.js';
import { InvalidInputError } from './errors.js';
import type { RawScores } from './raw-scores.js';

export interface PcaOptions {
  /** Extra std per feature, added in quadrature to the training std (see trendAllowance). */
  scaleAllowance?: number[];
  /** Keep the fewest components explaining at least this share of variance (default 0.9). */
  varianceExplained?: number;
  /** Or exactly this many components. */
  components?: number;
  /** Confidence of the T² and Q control limits (default 0.99). */
  confidence?: number;
}

export interface PcaModel {
  kind: 'pca';
  mean: number[];
  std: number[];
  eigenvalues: number[];
  components: number;
  /** p x k loadings, row-major. */
  loadings: number[];
  t2Limit: number;
  qLimit: number;
  /** The combined-index matrix M (p x p, row-major). */
  metric: number[];
}

export function fitPca(train: Matrix, options: PcaOptions = {}): PcaModel {
  const { stats, z } = standardisedTraining(train, options.scaleAllowance);
  const p = train.cols;
  const eig = symmetricEigen(covarianceOfCentred(z.data, z.rows, p), p);
  const eigenvalues = Array.from(eig.values, (v) => Math.max(v, 0));
  const k = chooseComponents(eigenvalues, options);
  const loadings = new Array<number>(p * k);
  for (let i = 0; i < p; i++) for (let j = 0; j < k; j++) loadings[i * k + j] = eig.vectors[i * p + j];
  const confidence = options.confidence ?? 0.99;
  const t2Limit = hotellingLimit(k, train.rows, confidence);
  const qLimit = jacksonMudholkarLimit(eigenvalues.slice(k), confidence);
  const metric = combinedMetric(loadings, eigenvalues, p, k, t2Limit, qLimit);
  return { kind: 'pca', mean: stats.mean, std: stats.std, eigenvalues, components: k, loadings, t2Limit, qLimit, metric };
}

function chooseComponents(eigenvalues: readonly number[], options: PcaOptions): number {
  const p = eigenvalues.length;
  // At least one dimension is left for the residual space, or Q would be identically zero.
  const maxK = Math.max(1, p - 1);
  if (options.components !== undefined) {
    if (!(Number.isInteger(options.components) && options.components >= 1 && options.components <= maxK)) {
      throw new InvalidInputError('bad-option', `components must be an integer from 1 to ${maxK}, got ${options.components}`);
    }
    return options.components;
  }
  const target = options.varianceExplained ?? 0.9;
  const total = eigenvalues.reduce((a, b) => a + b, 0);
  let cum = 0;
  for (let k = 1; k <= maxK; k++) {
    cum += eigenvalues[k - 1];
    if (cum >= target * total) return k;
  }
  return maxK;
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * T² limit k(n-1)(n+1)/(n(n-k)) F(k, n-k). The F quantile is taken as chi²_k/k (Wilson-Hilferty),
 * exact enough for the hundreds of training rows we require; the calibrator sets the label anyway,
 * the limit only weighs T² against Q.
 */
function hotellingLimit(k: number, n: number, confidence: number): number {
  const z = normalQuantile(confidence);
  const chi2 = k * (1 - 2 / (9 * k) + z * Math.sqrt(2 / (9 * k))) ** 3;
  const factor = n > k + 1 ? ((n - 1) * (n + 1)) / (n * (n - k)) : 1;
  return Math.max(chi2 * factor, 1e-12);
}

/** Jackson-Mudholkar limit of Q from the residual eigenvalues. */
function jacksonMudholkarLimit(residualEigenvalues: readonly number[], confidence: number): number {
  const theta = [1, 2, 3].map((i) => residualEigenvalues.reduce((s, l) => s + l ** i, 0));
  const [t1, t2, t3] = theta;
  if (!(t1 > 1e-12)) return 1e-12;
  const h0 = 1 - (2 * t1 * t3) / (3 * t2 * t2);
  const z = normalQuantile(confidence);
  const inner = (z * Math.sqrt(2 * t2 * h0 * h0)) / t1 + 1 + (t2 * h0 * (h0 - 1)) / (t1 * t1);
  const limit = t1 * Math.max(inner, 1e-12) ** (1 / h0);
  return Number.isFinite(limit) && limit > 0 ? limit : t1;
}

function combinedMetric(loadings: readonly number[], eigenvalues: readonly number[], p: number, k: number, t2Limit: number, qLimit: number): number[] {
  const m = new Array<number>(p * p).fill(0);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < p; j++) {
      let t2 = 0;
      let proj = 0;
      for (let c = 0; c < k; c++) {
        const prod = loadings[i * k + c] * loadings[j * k + c];
        t2 += prod / Math.max(eigenvalues[c], 1e-12);
        proj += prod;
      }
      const residual = (i === j ? 1 : 0) - proj;
      m[i * p + j] = t2 / t2Limit + residual / qLimit;
    }
  }
  return m;
}

/** Combined index phi and reconstruction-based contributions of each row. */
export function scorePca(model: PcaModel, rows: Matrix, withContributions = true): RawScores {
  const p = model.mean.length;
  assertValidMatrix(rows, { cols: p });
  const z = standardise(rows, model.mean, model.std).data;
  const m = Float64Array.from(model.metric);
  const raw = new Float64Array(rows.rows);
  // Batch scoring reads only the raw score: the contributions would be most of the allocation.
  const contributions = new Float64Array(withContributions ? rows.rows * p : 0);
  const mz = new Float64Array(p);
  for (let r = 0; r < rows.rows; r++) {
    const o = r * p;
    let phi = 0;
    for (let i = 0; i < p; i++) {
      let s = 0;
      for (let j = 0; j < p; j++) s += z[o + j] * m[j * p + i];
      mz[i] = s;
      phi += s * z[o + i];
    }
    raw[r] = phi;
    if (withContributions) for (let i = 0; i < p; i++) contributions[o + i] = (mz[i] * mz[i]) / m[i * p + i];
  }
  return { raw, contributions };
}
