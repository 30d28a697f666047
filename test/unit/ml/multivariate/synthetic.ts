/** Generated plant data for the detector tests: sensors driven by two latent factors, one of them non-linearly. */
import type { Matrix } from '../../../../shared/ml/multivariate/matrix.js';
import { createGaussian, createRng } from '../../../../shared/ml/multivariate/rng.js';

export const SENSORS = 6;

export function plantRows(rows: number, seed: number): Matrix {
  const g = createGaussian(createRng(seed));
  const data = new Float64Array(rows * SENSORS);
  for (let r = 0; r < rows; r++) {
    const a = g();
    const b = g();
    const noise = () => 0.1 * g();
    const row = [a + noise(), 0.8 * a + 0.5 * b + noise(), b + noise(), a * a - 1 + noise(), Math.sin(2 * b) + noise(), a - b + noise()];
    data.set(row.map((v) => Math.fround(v)), r * SENSORS);
  }
  return { rows, cols: SENSORS, data };
}

/** Copies `m` and breaks rows [start, end): sensor `sensor` is pushed by `shift` (in its own units). */
export function withFault(m: Matrix, start: number, end: number, sensor: number, shift: number): Matrix {
  const data = Float64Array.from(m.data);
  for (let r = start; r < end; r++) data[r * m.cols + sensor] += shift;
  return { rows: m.rows, cols: m.cols, data };
}
