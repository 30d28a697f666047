/** Small numeric helpers shared by the univariate detectors, forecasting and drift. */

const LN10 = Math.log(10);

/**
 * ln of erfc(x) for x >= 0 (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7), computed in the
 * log domain so tail probabilities of 40 sigma do not underflow to 0 and still rank.
 */
function logErfcPositive(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  const poly =
    -1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return Math.log(t) - x * x + poly;
}

/** ln P(Z > z) for a standard normal Z. */
export function logNormalUpperTail(z: number): number {
  if (z >= 0) return Math.log(0.5) + logErfcPositive(z / Math.SQRT2);
  return Math.log1p(-0.5 * Math.exp(logErfcPositive(-z / Math.SQRT2)));
}

/** P(Z > z) for a standard normal Z. */
export function normalUpperTail(z: number): number {
  return Math.exp(logNormalUpperTail(z));
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lowTail = 0.02425;
  if (p < lowTail) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lowTail) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * Anomaly score in [0, 1] from the natural log of a tail probability: -log10(p) / 10, capped at 1.
 * The same log transform as Numenta's anomaly log-likelihood, so 0.5 means p = 1e-5 on every series.
 */
export function scoreFromLogP(logP: number): number {
  const s = -logP / (10 * LN10);
  return s <= 0 ? 0 : s >= 1 ? 1 : s;
}

/** Inverse of scoreFromLogP: the ln p a score stands for. */
export function logPFromScore(score: number): number {
  return -score * 10 * LN10;
}

/** Median of a copy of the values (the input is not reordered). */
export function median(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return n % 2 === 1 ? sorted[(n - 1) / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}

/** Median absolute deviation from the median, scaled by 1.4826 to estimate a normal sigma. */
export function robustSigma(values: ArrayLike<number>): number {
  const m = median(values);
  const dev = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) dev[i] = Math.abs(values[i] - m);
  return 1.4826 * median(dev);
}

export function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return values.length === 0 ? Number.NaN : s / values.length;
}

/** Linear interpolation quantile (type 7, as R and numpy default) of an ascending array. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = (n - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** The coarsest power of ten that every value is a multiple of (1 for integers, 0.1 for one decimal...), at most 1. */
export function decimalStep(values: readonly number[]): number {
  let step = 1;
  for (const v of values) {
    while (step > 1e-9 && Math.abs(v / step - Math.round(v / step)) > 1e-6) step /= 10;
  }
  return step;
}

/** The smallest scale a series is given, the whole of it when it never moved: a thousandth of its decimal step, so any departure from a constant is news. */
export function flatScale(values: readonly number[]): number {
  return Math.max(1e-12, 1e-9 * Math.abs(median(values)), 0.001 * decimalStep(values));
}
