/**
 * Causal smoothing used around the models: a trailing mean over the last `window` values, which uses
 * only past rows so batch scores equal streaming scores. State carries the tail between batches.
 */
import type { Matrix } from './matrix.js';

/** The last rows (row-major) and raw scores a stream needs to continue its trailing windows. */
export interface CausalState {
  rows: number[];
  raw: number[];
}

export const emptyCausalState = (): CausalState => ({ rows: [], raw: [] });

/** Trailing mean of each column over `window` rows, seeded by `history` (earlier rows, row-major). */
export function trailingMeanRows(m: Matrix, window: number, history: readonly number[] = []): Matrix {
  if (window <= 1) return m;
  const p = m.cols;
  const past = Math.floor(history.length / p);
  const all = new Float64Array(history.length + m.data.length);
  all.set(history);
  all.set(m.data, history.length);
  const out = new Float64Array(m.data.length);
  const sum = new Float64Array(p);
  for (let r = 0; r < past + m.rows; r++) {
    for (let c = 0; c < p; c++) sum[c] += all[r * p + c];
    if (r >= window) for (let c = 0; c < p; c++) sum[c] -= all[(r - window) * p + c];
    if (r >= past) {
      const n = Math.min(window, r + 1);
      for (let c = 0; c < p; c++) out[(r - past) * p + c] = sum[c] / n;
    }
  }
  return { rows: m.rows, cols: p, data: out };
}

/** Trailing mean of a score series over `window` values, seeded by `history`. */
export function trailingMean(values: Float64Array, window: number, history: readonly number[] = []): Float64Array {
  if (window <= 1) return values;
  const all = new Float64Array(history.length + values.length);
  all.set(history);
  all.set(values, history.length);
  const out = new Float64Array(values.length);
  let sum = 0;
  for (let i = 0; i < all.length; i++) {
    sum += all[i];
    if (i >= window) sum -= all[i - window];
    if (i >= history.length) out[i - history.length] = sum / Math.min(window, i + 1);
  }
  return out;
}

/** Keeps the last `keepRows` rows and `keepRaw` raw scores (history then this batch) for the next batch. */
export function nextCausalState(state: CausalState, m: Matrix, raw: Float64Array, keepRows: number, keepRaw: number): CausalState {
  return { rows: tail(state.rows, m.data, keepRows * m.cols), raw: tail(state.raw, raw, keepRaw) };
}

function tail(history: readonly number[], batch: Float64Array, keep: number): number[] {
  if (keep <= 0) return [];
  if (batch.length >= keep) return Array.from(batch.subarray(batch.length - keep));
  return [...history.slice(Math.max(0, history.length - (keep - batch.length))), ...batch];
}
