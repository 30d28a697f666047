import { describe, expect, it } from 'vitest';
import { CleanStage, DedupeStage, ImputeStage, ReorderStage, ResampleStage, SlotToRow, type RowSink } from '../../../shared/data/preprocess-stages.js';

/** Collects rows as [t, ...values], with NaN as null so toEqual tells -0 and NaN apart plainly. */
class Collect implements RowSink {
  readonly rows: (number | null)[][] = [];
  push(t: number, row: Float64Array): void {
    this.rows.push([t, ...Array.from(row, (x) => (x === x ? x : null))]);
  }
  end(): void {}
}

/** Rows with duplicates, repeated timestamps, several rows per bucket, gaps, missing runs and a label; shuffled a little. */
function messyRows(seed: number, n: number, width: number): [number, Float64Array][] {
  let s = seed;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const rows: [number, Float64Array][] = [];
  let t = 1_700_000_000_000;
  for (let i = 0; i < n; i++) {
    const r = rnd();
    t += r < 0.1 ? 0 : r < 0.2 ? 400 : r < 0.25 ? 7000 + Math.floor(rnd() * 20) * 1000 : 1000;
    const row = Float64Array.from({ length: width }, (_, c) => (rnd() < 0.15 ? Number.NaN : c === width - 1 ? Math.floor(rnd() * 3) : Math.round(rnd() * 1e4) / 100 - 20));
    rows.push([t, row]);
    if (rnd() < 0.05) rows.push([t, row.slice()]);
  }
  for (let i = 0; i + 3 < rows.length; i += 7) [rows[i], rows[i + 2]] = [rows[i + 2], rows[i]];
  return rows;
}

describe('CleanStage (the fused dedupe, resample and impute)', () => {
  it.each([
    ['linear', 5, 1000, 10_000],
    ['ffill', 2, 1000, 3],
    ['linear', 1, 2000, 0],
  ] as const)('writes what DedupeStage -> ResampleStage -> ImputeStage write (%s, maxGap %d, interval %d ms, maxEmpty %d)', (method, maxGap, interval, maxEmpty) => {
    const width = 5;
    const sensors = 4;
    for (const seed of [1, 2, 3]) {
      const rows = messyRows(seed, 3000, width);
      const expected = new Collect();
      const impute = new ImputeStage(expected, width, sensors, maxGap, method);
      const resample = new ResampleStage(impute, width, sensors, interval, maxEmpty);
      const dedupe = new DedupeStage(resample, width);
      const reorder = new ReorderStage(dedupe, width, 16);
      const actual = new Collect();
      const clean = new CleanStage(new SlotToRow(actual, width), width, sensors, interval, maxEmpty, maxGap, method);
      const fusedReorder = new ReorderStage(clean, width, 16, clean);
      for (const [t, row] of rows) {
        reorder.push(t, row);
        fusedReorder.push(t, row);
      }
      reorder.end();
      fusedReorder.end();
      expect(actual.rows.length).toBeGreaterThan(1000);
      expect(actual.rows).toEqual(expected.rows);
      expect([clean.dropped, clean.emptyBuckets, clean.gapsLeft, clean.imputed]).toEqual([dedupe.dropped, resample.emptyBuckets, resample.gapsLeft, impute.imputed]);
      expect(fusedReorder.reordered).toBe(reorder.reordered);
      expect(clean.dropped * clean.imputed * reorder.reordered).toBeGreaterThan(0);
    }
  });
});
