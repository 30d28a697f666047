import { describe, expect, it } from 'vitest';
import { WindowStage, type RowSink } from '../../../shared/data/preprocess-stages.js';

/** Keeps a copy of every row handed on. */
class Collect implements RowSink {
  readonly rows: Float64Array[] = [];
  push(_t: number, row: Float64Array): void {
    this.rows.push(row.slice());
  }
  end(): void {}
}

/** A long series around a large offset with small noise, some values missing (and a run of them longer than the window). */
function series(rows: number, width: number, offset: number, noise: number, drift = 0): Float64Array[] {
  let s = 99;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  return Array.from({ length: rows }, (_, i) =>
    Float64Array.from({ length: width }, (_, c) => {
      if ((i + 7 * c) % 97 === 0 || (c === 1 && i >= 5000 && i < 5100)) return Number.NaN;
      return offset * (c + 1) + drift * Math.sin(i / 20_000) + noise * rnd();
    }),
  );
}

/** The window's statistics the slow way: the values present among the last `window` rows, mean and std in two passes. */
function naive(data: readonly Float64Array[], i: number, c: number, window: number): { mean: number; std: number; min: number; max: number } {
  const xs: number[] = [];
  for (let r = Math.max(0, i - window + 1); r <= i; r++) if (!Number.isNaN(data[r][c])) xs.push(data[r][c]);
  if (xs.length === 0) return { mean: Number.NaN, std: Number.NaN, min: Number.NaN, max: Number.NaN };
  // The deviations from the first value are exact for values this close: the mean without the rounding of a large sum.
  const mean = xs[0] + xs.reduce((a, x) => a + (x - xs[0]), 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1)) : Number.NaN;
  return { mean, std, min: Math.min(...xs), max: Math.max(...xs) };
}

describe('WindowStage on long series with a large offset', () => {
  it.each([
    [60, 1e6, 0.01, 50_000],
    [500, 1e6, 1e-3, 20_000],
    [7, 1e9, 1, 50_000],
    // A level drifting by +-1,000 far from the first value, with tiny noise: the running sums must be re-centred.
    [60, 1e6, 0.01, 100_000, 1000],
  ])('matches a naive computation (window %d, values around %d with noise %d, %d rows, drift %d)', (window, offset, noise, rows, drift = 0) => {
    const width = 3;
    const data = series(rows, width, offset, noise, drift);
    const out = new Collect();
    // Not all columns, not in order, stats in a different order from the default.
    const columns = [2, 1];
    const stats = ['std', 'max', 'mean', 'min'] as const;
    const stage = new WindowStage(out, width, columns, window, stats);
    data.forEach((row, i) => stage.push(i * 1000, row));
    stage.end();
    expect(out.rows).toHaveLength(rows);

    let worstMean = 0;
    let worstStd = 0;
    for (let i = 0; i < rows; i++) {
      const row = out.rows[i];
      for (let k = 0; k < width; k++) expect(Object.is(row[k], data[i][k])).toBe(true);
      columns.forEach((c, j) => {
        const want = naive(data, i, c, window);
        const [std, max, mean, min] = row.subarray(width + j * stats.length, width + (j + 1) * stats.length);
        expect(Object.is(min, want.min) && Object.is(max, want.max)).toBe(true);
        if (Number.isNaN(want.mean)) expect(mean).toBeNaN();
        else worstMean = Math.max(worstMean, Math.abs(mean - want.mean) / want.mean);
        if (Number.isNaN(want.std)) expect(std).toBeNaN();
        else worstStd = Math.max(worstStd, Math.abs(std - want.std) / want.std);
      });
    }
    // Written with 10 significant digits: errors must stay far below that.
    expect(worstMean).toBeLessThan(1e-15);
    expect(worstStd).toBeLessThan(1e-9);
  });
});
