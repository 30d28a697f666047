/** Eigen-decomposition of a symmetric matrix: values descending, vectors as columns (row-major n x n). */
export interface Eigen {
  values: Float64Array;
  vectors: Float64Array;
}

/**
 * Cyclic Jacobi rotations. For the feature counts we see (tens of columns) it converges in a few
 * sweeps and is accurate to machine precision, which a power iteration is not for close eigenvalues.
 */
export function symmetricEigen(sym: Float64Array, n: number, maxSweeps = 100): Eigen {
  const a = Float64Array.from(sym);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    if (offDiagonalNorm(a, n) < 1e-22 * (diagonalNorm(a, n) + 1e-300)) break;
    for (let p = 0; p < n - 1; p++) for (let q = p + 1; q < n; q++) rotate(a, v, n, p, q);
  }
  return sortEigen(a, v, n);
}

function offDiagonalNorm(a: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) s += a[i * n + j] ** 2;
  return s;
}

function diagonalNorm(a: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i * n + i] ** 2;
  return s;
}

function rotate(a: Float64Array, v: Float64Array, n: number, p: number, q: number): void {
  const apq = a[p * n + q];
  if (Math.abs(apq) < 1e-300) return;
  const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
  const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
  const c = 1 / Math.sqrt(t * t + 1);
  const s = t * c;
  for (let k = 0; k < n; k++) {
    const akp = a[k * n + p];
    const akq = a[k * n + q];
    a[k * n + p] = c * akp - s * akq;
    a[k * n + q] = s * akp + c * akq;
  }
  for (let k = 0; k < n; k++) {
    const apk = a[p * n + k];
    const aqk = a[q * n + k];
    a[p * n + k] = c * apk - s * aqk;
    a[q * n + k] = s * apk + c * aqk;
  }
  for (let k = 0; k < n; k++) {
    const vkp = v[k * n + p];
    const vkq = v[k * n + q];
    v[k * n + p] = c * vkp - s * vkq;
    v[k * n + q] = s * vkp + c * vkq;
  }
}

function sortEigen(a: Float64Array, v: Float64Array, n: number): Eigen {
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j * n + j] - a[i * n + i]);
  const values = Float64Array.from(order, (i) => a[i * n + i]);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    for (let k = 0; k < n; k++) vectors[k * n + dst] = v[k * n + src];
  });
  return { values, vectors };
}

/** Covariance (divided by n - 1) of already centred data, accumulated in blocks of rows for cache reuse. */
export function covarianceOfCentred(data: Float64Array, rows: number, cols: number): Float64Array {
  const cov = new Float64Array(cols * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let i = 0; i < cols; i++) {
      const xi = data[o + i];
      for (let j = i; j < cols; j++) cov[i * cols + j] += xi * data[o + j];
    }
  }
  const div = Math.max(1, rows - 1);
  for (let i = 0; i < cols; i++) {
    for (let j = i; j < cols; j++) {
      cov[i * cols + j] /= div;
      cov[j * cols + i] = cov[i * cols + j];
    }
  }
  return cov;
}
