import { binOf } from './reference.js';

/**
 * Two-sample Kolmogorov-Smirnov on two ascending arrays: D = sup |F1 - F2|, p from the asymptotic Kolmogorov
 * distribution with Stephens' small-sample correction, lambda = (sqrt(ne) + 0.12 + 0.11 / sqrt(ne)) D, ne = n1 n2 / (n1 + n2).
 */
export function kolmogorovSmirnov(a: ArrayLike<number>, b: ArrayLike<number>): { statistic: number; pValue: number } {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n1 && j < n2) {
    const x = Math.min(a[i], b[j]);
    while (i < n1 && a[i] <= x) i++;
    while (j < n2 && b[j] <= x) j++;
    d = Math.max(d, Math.abs(i / n1 - j / n2));
  }
  const ne = (n1 * n2) / (n1 + n2);
  const sqrtNe = Math.sqrt(ne);
  return { statistic: d, pValue: kolmogorovTail((sqrtNe + 0.12 + 0.11 / sqrtNe) * d) };
}

/** Q_KS(lambda) = 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 lambda^2). */
export function kolmogorovTail(lambda: number): number {
  if (lambda < 0.2) return 1;
  let sum = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * lambda * lambda);
    sum += (k % 2 === 1 ? 1 : -1) * term;
    if (term < 1e-12) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

/** Population stability index over the reference's bins; empty bins get a 1e-4 share so the log stays finite. */
export function populationStabilityIndex(edges: readonly number[], expected: readonly number[], current: ArrayLike<number>): number {
  const counts = new Array<number>(expected.length).fill(0);
  for (let i = 0; i < current.length; i++) counts[binOf(edges, current[i])]++;
  let psi = 0;
  for (let b = 0; b < expected.length; b++) {
    const e = Math.max(expected[b], 1e-4);
    const a = Math.max(counts[b] / current.length, 1e-4);
    psi += (a - e) * Math.log(a / e);
  }
  return psi;
}
