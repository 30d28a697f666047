import { InvalidInputError } from './errors.js';

/** A dense row-major matrix: row r, column c is `data[r * cols + c]`. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

/** Builds a Matrix from an array of rows; rows of unequal length are refused. */
export function matrixFromRows(rows: readonly (readonly number[])[]): Matrix {
  if (rows.length === 0) throw new InvalidInputError('empty', 'the matrix has no rows');
  const cols = rows[0].length;
  const data = new Float64Array(rows.length * cols);
  rows.forEach((row, r) => {
    if (row.length !== cols) {
      throw new InvalidInputError('feature-count', `row ${r} has ${row.length} features, expected ${cols}`);
    }
    data.set(row, r * cols);
  });
  return { rows: rows.length, cols, data };
}

/** Rows `start` (inclusive) to `end` (exclusive), sharing no memory with the source. */
export function sliceRows(m: Matrix, start: number, end: number): Matrix {
  return { rows: end - start, cols: m.cols, data: m.data.slice(start * m.cols, end * m.cols) };
}

export interface MatrixChecks {
  /** Required number of columns (the fitted model's feature count). */
  cols?: number;
  minRows?: number;
}

/** Refuses empty, wrongly shaped or non-finite input before any arithmetic can turn it into NaN scores. */
export function assertValidMatrix(m: Matrix, checks: MatrixChecks = {}): void {
  if (m.rows === 0 || m.cols === 0) throw new InvalidInputError('empty', `the matrix is empty (${m.rows} x ${m.cols})`);
  if (m.data.length !== m.rows * m.cols) {
    throw new InvalidInputError('feature-count', `data length ${m.data.length} is not rows x cols = ${m.rows * m.cols}`);
  }
  if (checks.cols !== undefined && m.cols !== checks.cols) {
    throw new InvalidInputError('feature-count', `rows have ${m.cols} features, the model expects ${checks.cols}`);
  }
  if (checks.minRows !== undefined && m.rows < checks.minRows) {
    throw new InvalidInputError('too-few-rows', `${m.rows} row(s) given, at least ${checks.minRows} needed`);
  }
  for (let i = 0; i < m.data.length; i++) {
    if (!Number.isFinite(m.data[i])) {
      const row = Math.floor(i / m.cols);
      throw new InvalidInputError('non-finite', `row ${row}, feature ${i - row * m.cols} is ${m.data[i]}, not a finite number`);
    }
  }
}

export interface ColumnStats {
  mean: number[];
  std: number[];
}

/** Column means and (population) standard deviations in one pass each. */
export function columnStats(m: Matrix): ColumnStats {
  const { rows, cols, data } = m;
  const mean = new Float64Array(cols);
  const sq = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) mean[c] += data[r * cols + c];
  for (let c = 0; c < cols; c++) mean[c] /= rows;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const d = data[r * cols + c] - mean[c];
      sq[c] += d * d;
    }
  }
  return { mean: Array.from(mean), std: Array.from(sq, (s) => Math.sqrt(s / rows)) };
}

/** Smallest scale of a feature, relative to its level (at least 1): see floorScales. */
export const RELATIVE_SCALE_FLOOR = 1e-3;

/**
 * A training column that never moves (a sensor that sat flat while the model learnt) would make
 * standardisation divide by zero. Its scale is floored at RELATIVE_SCALE_FLOOR of its level instead:
 * while it stays at its constant it adds nothing, and a departure from it is news in proportion to
 * how far it moves, never infinite.
 */
export function floorScales(stats: ColumnStats): ColumnStats {
  return { mean: stats.mean, std: stats.std.map((s, c) => Math.max(s, RELATIVE_SCALE_FLOOR * Math.max(1, Math.abs(stats.mean[c])))) };
}

/**
 * Each column's least-squares slope per row times `horizon`: how far a feature that already wanders
 * in the training window would move over `horizon` more rows at the same pace. Used to widen the
 * scale of slowly drifting sensors (temperatures) so their expected drift is not an alarm.
 */
export function trendAllowance(m: Matrix, horizon: number): number[] {
  const { rows, cols, data } = m;
  const tMean = (rows - 1) / 2;
  let tVar = 0;
  for (let r = 0; r < rows; r++) tVar += (r - tMean) ** 2;
  const cov = new Float64Array(cols);
  const mean = columnStats(m).mean;
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) cov[c] += (r - tMean) * (data[r * cols + c] - mean[c]);
  return Array.from(cov, (v) => (tVar > 0 ? Math.abs(v / tVar) * horizon : 0));
}

/** Widens each column's std by an allowance (added in quadrature). */
export function widenStats(stats: ColumnStats, allowance: readonly number[] | undefined): ColumnStats {
  if (!allowance) return stats;
  return { mean: stats.mean, std: stats.std.map((s, c) => Math.sqrt(s * s + (allowance[c] ?? 0) ** 2)) };
}

/** (x - mean) / std per column, as a new matrix. */
export function standardise(m: Matrix, mean: readonly number[], std: readonly number[]): Matrix {
  const { rows, cols, data } = m;
  const out = new Float64Array(data.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = (data[r * cols + c] - mean[c]) / std[c];
  }
  return { rows, cols, data: out };
}

/**
 * What every detector's fit starts with: a valid matrix of at least two rows, its column statistics
 * (widened by the allowance, scales floored) and the standardised rows.
 */
export function standardisedTraining(train: Matrix, scaleAllowance: readonly number[] | undefined): { stats: ColumnStats; z: Matrix } {
  assertValidMatrix(train, { minRows: 2 });
  const stats = floorScales(widenStats(columnStats(train), scaleAllowance));
  return { stats, z: standardise(train, stats.mean, stats.std) };
}
