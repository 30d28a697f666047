import { createReadStream } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sourceFromText } from '../../../shared/data/byte-source.js';
import type { DatasetSchema } from '../../../shared/data/dataset-schema.js';
import { profileDataset, type ProfileOptions } from '../../../shared/data/profile-dataset.js';
import { QualityReport, type QualityCheck } from '../../../shared/data/quality-report.js';
import { QuantileSketch } from '../../../shared/data/quantile-sketch.js';
import { csv } from './helpers.js';

const SKAB = new URL('../../fixtures/data/skab-valve1-0.csv', import.meta.url);

/** Deterministic noise in [-0.5, 0.5). */
function noise(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

async function profile(text: string, options: ProfileOptions = {}) {
  const report = await profileDataset(sourceFromText(text), { minRowsToTrain: 10, now: () => new Date('2024-06-01T00:00:00Z'), ...options });
  expect(QualityReport.parse(report)).toEqual(report);
  return report;
}
const find = (r: QualityReport, check: QualityCheck, column?: string) => r.findings.find((f) => f.check === check && (column === undefined || f.column === column));

describe('profileDataset', () => {
  it('computes per-column statistics, quantiles and a histogram', async () => {
    const r = await profile(csv(1001, ['x'], (i) => i));
    const x = r.columns[0];
    expect(x).toMatchObject({ name: 'x', count: 1001, valid: 1001, missing: 0, min: 0, max: 1000, mean: 500 });
    expect(x.std).toBeCloseTo(289.1081, 3);
    expect(x.quantiles.find((q) => q.q === 0.5)?.value).toBe(500);
    expect(x.histogram.counts.reduce((a, b) => a + b, 0)).toBe(1001);
    expect(r.summary).toMatchObject({ rows: 1001, start: '2024-01-01T00:00:00.000Z', medianIntervalSeconds: 1, verdict: 'good' });
    expect(r.findings).toEqual([]);
  });

  it('finds missing and non-numeric values, with their lines', async () => {
    const r = await profile(csv(100, ['x'], (i) => (i >= 10 && i < 13 ? '' : i === 50 ? 'err' : i)));
    expect(find(r, 'missing-values', 'x')).toMatchObject({ count: 3, severity: 'info', ranges: [{ fromLine: 12, toLine: 14, count: 3 }] });
    expect(find(r, 'non-numeric-values', 'x')).toMatchObject({ count: 1, ranges: [{ fromLine: 52, toLine: 52 }] });
  });

  it('finds duplicate timestamps, backwards timestamps and gaps', async () => {
    const lines = csv(100, ['x'], (i) => i).trimEnd().split('\n');
    lines[20] = lines[19]; // duplicate
    [lines[40], lines[41]] = [lines[41], lines[40]]; // backwards once
    const shifted = lines.map((l, i) => (i > 70 ? l.replace(/^2024-01-01T00:0(\d):(\d\d)/, (_m, mm: string, ss: string) => `2024-01-01T00:${String(Number(mm) + 5).padStart(2, '0')}:${ss}`) : l));
    const r = await profile(`${shifted.join('\n')}\n`);
    expect(find(r, 'duplicate-timestamps')).toMatchObject({ count: 1, ranges: [{ fromLine: 21 }] });
    expect(find(r, 'backwards-timestamps')).toMatchObject({ count: 1, ranges: [{ fromLine: 42 }] });
    expect(find(r, 'time-gaps')).toMatchObject({ count: 1, ranges: [{ fromLine: 71, toLine: 72, start: '2024-01-01T00:01:09.000Z', end: '2024-01-01T00:06:10.000Z' }] });
  });

  it('finds a stuck sensor (flatline) and a constant column', async () => {
    const rnd = noise(1);
    const r = await profile(csv(300, ['x', 'c'], (i, c) => (c === 1 ? 7 : i >= 100 && i < 180 ? 42 : rnd())), { flatlineMinRows: 60 });
    expect(find(r, 'flatline', 'x')).toMatchObject({ count: 80, severity: 'warning', ranges: [{ fromLine: 102, toLine: 181, count: 80 }] });
    expect(find(r, 'constant-column', 'c')).toMatchObject({ details: { value: 7 } });
    expect(find(r, 'flatline', 'c')).toBeUndefined();
  });

  it('finds values outside the declared expected range', async () => {
    const schema: DatasetSchema = { timestampColumn: 'timestamp', sensorColumns: [{ name: 'p', unit: 'bar', expectedRange: { min: 0, max: 10 } }] };
    const r = await profile(csv(100, ['p'], (i) => (i === 5 ? -1 : i === 6 ? 11 : i === 50 ? 99 : 5)), { schema });
    expect(find(r, 'out-of-range', 'p')).toMatchObject({ count: 3, ranges: [{ fromLine: 7, toLine: 8, count: 2 }, { fromLine: 52, count: 1 }] });
  });

  it('finds a sudden level shift but not a slow ramp', async () => {
    const rnd = noise(2);
    const r = await profile(csv(2000, ['step', 'ramp'], (i, c) => (c === 0 ? (i < 1200 ? 0 : 10) + rnd() : i / 100 + rnd())));
    const shift = find(r, 'level-shift', 'step');
    expect(shift?.ranges).toHaveLength(1);
    expect(shift?.ranges[0].fromLine).toBeGreaterThan(1180);
    expect(shift?.ranges[0].toLine).toBeLessThan(1225);
    expect(find(r, 'level-shift', 'ramp')).toBeUndefined();
  });

  it('finds the drop of the SKAB valve temperature (4 degrees in about 80 s), and nothing else', async () => {
    const r = await profileDataset(createReadStream(SKAB), {});
    const shifts = r.findings.filter((f) => f.check === 'level-shift');
    expect(shifts.map((f) => f.column)).toEqual(['Temperature']);
    const [range] = shifts[0].ranges;
    expect(shifts[0].ranges).toHaveLength(1);
    // The drop runs from about line 605 (78.5) to line 690 (74.4), 10:25:00 to 10:26:35.
    expect(range.fromLine).toBeGreaterThanOrEqual(595);
    expect(range.toLine).toBeLessThanOrEqual(695);
    expect(range.start! >= '2020-03-09T10:24:50' && range.end! <= '2020-03-09T10:26:40').toBe(true);
    expect(shifts[0].details?.largestFrom).toBeCloseTo(78.7, 0);
    expect(shifts[0].details?.largestTo).toBeCloseTo(74.8, 0);
  });

  it('finds a level change spread over many rows, and sharp ones back and forth', async () => {
    const rnd = noise(5);
    // 'slow': +5 over 150 rows (5% of the file); 'pulse': up at row 1000 and down at 2000.
    const r = await profile(csv(3000, ['slow', 'pulse'], (i, c) => (c === 0 ? 5 * Math.min(1, Math.max(0, (i - 1500) / 150)) : i >= 1000 && i < 2000 ? 4 : 0) + rnd()));
    const slow = find(r, 'level-shift', 'slow');
    expect(slow?.ranges).toHaveLength(1);
    expect(slow?.ranges[0].fromLine).toBeGreaterThan(1480);
    expect(slow?.ranges[0].toLine).toBeLessThan(1680);
    expect(find(r, 'level-shift', 'pulse')?.ranges.map((x) => Math.round(x.toLine / 100) * 100)).toEqual([1000, 2000]);
  });

  it('finds no level shift in noise, ramps, sine waves, slow drifts, bumps or a modest random walk', async () => {
    const gauss = (rnd: () => number) => () => rnd() + rnd() + rnd() + rnd();
    for (const n of [800, 3000, 20_000]) {
      for (let seed = 1; seed <= 3; seed++) {
        const rnd = noise(100 * seed + n);
        const g = gauss(rnd);
        let walk = 0;
        const columns = ['noise', 'ramp', 'sine', 'slowSine', 'drift', 'bump', 'walk'];
        const r = await profile(
          csv(n, columns, (i, c) => {
            const x = i / n;
            switch (c) {
              case 0:
                return g();
              case 1:
                return 20 * x + g();
              case 2:
                return 5 * Math.sin(2 * Math.PI * 9 * x) + 0.3 * g();
              case 3:
                return 3 * Math.sin(2 * Math.PI * 1.3 * x) + 0.1 * g();
              case 4:
                return 10 * x * x + 2 * Math.cos(7 * x) + 0.5 * g();
              case 5:
                return 3 * Math.exp(-(((x - 0.4) * 40) ** 2)) + 0.1 * g();
              default:
                return (walk += 0.03 * g()) + g();
            }
          }),
        );
        expect(r.findings.filter((f) => f.check === 'level-shift').map((f) => `${n}/${seed}: ${f.column}`)).toEqual([]);
      }
    }
  });

  it('finds two operating modes, and none in a sine wave', async () => {
    const rnd = noise(3);
    const r = await profile(csv(3000, ['load', 'sine'], (i, c) => (c === 0 ? (Math.floor(i / 250) % 2 === 0 ? 20 : 80) + rnd() * 4 : Math.sin(i / 30) + rnd() * 0.1)));
    expect(find(r, 'operating-modes', 'load')).toMatchObject({ severity: 'info', details: { modes: 2, lowShare: 0.5 } });
    expect(find(r, 'operating-modes', 'load')?.details?.lowCentre).toBeCloseTo(20, 0);
    expect(find(r, 'operating-modes', 'sine')).toBeUndefined();
  });

  it('says when there is too little data to train', async () => {
    const r = await profile(csv(50, ['x'], (i) => i), { minRowsToTrain: 1000 });
    expect(find(r, 'insufficient-data')).toMatchObject({ severity: 'error', count: 50 });
    expect(r.summary.verdict).toBe('not-trainable');
    expect(r.findings[0].severity).toBe('error');
  });

  it('keeps the chart series bounded whatever the length', async () => {
    const r = await profile(csv(5000, ['x'], (i) => i % 100), { seriesPoints: 100 });
    expect(r.series.fromLine.length).toBeLessThanOrEqual(103);
    expect(r.series.fromLine.length).toBeGreaterThanOrEqual(50);
    const col = r.series.columns[0];
    expect(Math.max(...col.max.map(Number))).toBe(99);
    expect(Math.min(...col.min.map(Number))).toBe(0);
    expect(col.mean.every((m, i) => Number(col.min[i]) <= Number(m) && Number(m) <= Number(col.max[i]))).toBe(true);
    expect(r.series.toLine.at(-1)).toBe(5001);
  });

  it('profiles the SKAB valve file', async () => {
    const r = await profileDataset(createReadStream(SKAB), { datasetId: 'skab-valve1-0' });
    expect(QualityReport.parse(r).summary).toMatchObject({ rows: 1147, rowsWithTime: 1147, sensorColumns: 8, expectedIntervalSeconds: 1 });
    expect(r.columns.map((c) => c.role)).toEqual([...Array(8).fill('sensor'), 'label']);
    expect(r.columns.at(-1)).toMatchObject({ name: 'anomaly', min: 0, max: 1 });
    expect(r.findings.every((f) => f.severity !== 'error')).toBe(true);
  });
});

describe('QuantileSketch', () => {
  it('keeps rank error under 1% on a million values in bounded memory', () => {
    const s = new QuantileSketch();
    const rnd = noise(4);
    const xs = new Float64Array(1_000_000);
    for (let i = 0; i < xs.length; i++) {
      xs[i] = Math.sin(i / 500) * 5 + rnd() + (i > 700_000 ? 3 : 0);
      s.add(xs[i]);
    }
    const sorted = xs.slice().sort();
    const qs = [0.01, 0.1, 0.5, 0.9, 0.99];
    s.quantiles(qs).forEach((v, i) => {
      let lo = 0;
      while (lo < sorted.length && sorted[lo] < v) lo++;
      expect(Math.abs(lo / sorted.length - qs[i])).toBeLessThan(0.01);
    });
    expect(s.weighted().values.length).toBeLessThan(20_000);
  });

  it('adds arrays like single values, survives JSON, and merges halves within the same error', () => {
    const rnd = noise(6);
    const xs = Float64Array.from({ length: 300_000 }, (_, i) => Math.sin(i / 700) * 3 + rnd());
    const one = new QuantileSketch();
    for (const x of xs) one.add(x);
    const many = new QuantileSketch();
    for (let i = 0; i < xs.length; i += 4096) many.addMany(xs.subarray(i, i + 4096), Math.min(4096, xs.length - i));
    const qs = [0.01, 0.25, 0.5, 0.75, 0.99];
    expect(many.quantiles(qs)).toEqual(one.quantiles(qs));
    expect(QuantileSketch.fromJSON(JSON.parse(JSON.stringify(many.toJSON()))).quantiles(qs)).toEqual(many.quantiles(qs));
    const a = new QuantileSketch();
    const b = new QuantileSketch();
    a.addMany(xs.subarray(0, 123_457), 123_457);
    b.addMany(xs.subarray(123_457), xs.length - 123_457);
    const merged = QuantileSketch.fromJSON(a.toJSON());
    merged.mergeState(JSON.parse(JSON.stringify(b.toJSON())));
    expect(merged.count).toBe(xs.length);
    const sorted = xs.slice().sort();
    merged.quantiles(qs).forEach((v, i) => {
      let lo = 0;
      while (lo < sorted.length && sorted[lo] < v) lo++;
      expect(Math.abs(lo / sorted.length - qs[i])).toBeLessThan(0.01);
    });
  });
});
