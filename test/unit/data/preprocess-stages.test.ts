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

/** Imputation done the plain way on the whole series: each run of at most maxGap missing values between two known ones is filled. */
function imputeReference(rows: [number, Float64Array][], sensors: number, maxGap: number, method: 'linear' | 'ffill'): (number | null)[][] {
  const out = rows.map(([t, row]) => [t, ...Array.from(row)]);
  for (let j = 1; j <= sensors; j++) {
    let last = -1;
    for (let i = 0; i < out.length; i++) {
      const x = out[i][j];
      if (x !== x) continue;
      if (last >= 0 && i - last - 1 >= 1 && i - last - 1 <= maxGap) {
        const [t0, v0] = [out[last][0], out[last][j]];
        const t = out[i][0];
        for (let r = last + 1; r < i; r++) out[r][j] = method === 'linear' && t > t0 ? v0 + ((x - v0) * (out[r][0] - t0)) / (t - t0) : v0;
      }
      last = i;
    }
  }
  return out.map((r) => r.map((x) => (x === x ? x : null)));
}

describe('ImputeStage', () => {
  it.each([
    ['linear', 1],
    ['linear', 5],
    ['ffill', 3],
  ] as const)('fills what the plain whole-series imputation fills (%s, maxGap %d)', (method, maxGap) => {
    let s = 5;
    const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const sensors = 3;
    const rows: [number, Float64Array][] = [];
    const missing = [0, 0, 0];
    for (let i = 0; i < 4000; i++) {
      const row = Float64Array.from({ length: sensors + 1 }, (_, c) => {
        if (c === sensors) return i % 2;
        if (missing[c] > 0) {
          missing[c]--;
          return Number.NaN;
        }
        if (rnd() < 0.1) missing[c] = Math.floor(rnd() * (maxGap + 3));
        return rnd() < 0.05 || i < 3 ? Number.NaN : Math.round(rnd() * 1e4) / 100;
      });
      rows.push([1_700_000_000_000 + i * 1000 + (i % 3) * 250, row]);
    }
    const got = new Collect();
    const impute = new ImputeStage(got, sensors + 1, sensors, maxGap, method);
    for (const [t, row] of rows) impute.push(t, row);
    impute.end();
    const expected = imputeReference(rows, sensors, maxGap, method);
    expect(got.rows).toEqual(expected);
    const filled = expected.flat().filter((x) => x !== null).length - rows.flatMap(([t, r]) => [t, ...r]).filter((x) => x === x).length;
    expect(impute.imputed).toBe(filled);
    expect(filled).toBeGreaterThan(100);
  });
});

describe('ReorderStage', () => {
  it('takes rows from column arrays as it takes them from a row', () => {
    const rows = messyRows(4, 2000, 3);
    const columns = [0, 1].map((c) => Float64Array.from(rows, ([, r]) => r[c]));
    const label = Float64Array.from(rows, ([, r]) => r[2]);
    const byRow = new Collect();
    const byColumns = new Collect();
    const a = new ReorderStage(byRow, 3, 8);
    const b = new ReorderStage(byColumns, 3, 8);
    rows.forEach(([t, row], k) => {
      a.push(t, row);
      b.pushColumns(t, columns, label, k);
    });
    a.end();
    b.end();
    expect(byColumns.rows).toEqual(byRow.rows);
    expect(b.reordered).toBe(a.reordered);
  });
});

describe('CountLedger', () => {
  it('is told every count the stages make, with the time of the output row it belongs to', () => {
    const width = 5;
    const sensors = 4;
    const interval = 1000;
    const rows = messyRows(6, 3000, width);
    const ledgerOf = () => {
      const noted = [0, 0, 0, 0, 0];
      const times: number[] = [];
      return { noted, times, note: (kind: 0 | 1 | 2 | 3 | 4, t: number, n: number) => ((noted[kind] += n), times.push(kind === 0 ? Math.floor(t / interval) * interval : t)) };
    };
    const fused = ledgerOf();
    const clean = new CleanStage(new SlotToRow(new Collect(), width), width, sensors, interval, 12, 2, 'linear');
    clean.ledger = fused;
    const split = ledgerOf();
    const impute = new ImputeStage(new Collect(), width, sensors, 2, 'linear');
    const resample = new ResampleStage(impute, width, sensors, interval, 12);
    const dedupe = new DedupeStage(resample, width);
    for (const stage of [impute, resample, dedupe]) stage.ledger = split;
    const sorted = [...rows].sort((a, b) => a[0] - b[0]);
    for (const [t, row] of sorted) {
      clean.push(t, row);
      dedupe.push(t, row);
    }
    clean.end();
    dedupe.end();
    expect(fused.noted).toEqual([clean.dropped, clean.emptyBuckets, clean.gapsLeft, clean.imputed, clean.bucketsRefused]);
    expect(resample.bucketsRefused).toBe(clean.bucketsRefused);
    expect(split.noted).toEqual(fused.noted);
    expect(split.times).toEqual(fused.times);
    expect(fused.times.every((t) => t % interval === 0)).toBe(true);
    expect(Math.min(...fused.noted)).toBeGreaterThan(0);
  });
});
