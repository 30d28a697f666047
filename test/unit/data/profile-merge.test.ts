import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DatasetSchema } from '../../../shared/data/dataset-schema.js';
import { ProfileMerger, profileDataset, profilePartial, type ProfileOptions, type ProfilePartial } from '../../../shared/data/profile-dataset.js';
import { QualityReport } from '../../../shared/data/quality-report.js';
import { chunked } from './helpers.js';

const SKAB = new URL('../../fixtures/data/skab-valve1-0.csv', import.meta.url);
const NOW = () => new Date('2024-06-01T00:00:00Z');

/** Deterministic noise in [-0.5, 0.5). */
function noise(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

const source = (bytes: Buffer) => chunked(bytes, 65_536);
const headerEnd = (bytes: Buffer) => bytes.indexOf(10) + 1;

/**
 * Cuts a file as the Distributed Map planner does: byte ranges whose ends fall just after a
 * newline, each (but the first, which starts with it) handed over with the CSV header line first.
 */
function byteChunks(bytes: Buffer, parts: number, format: 'csv' | 'jsonl'): Buffer[] {
  const start = format === 'csv' ? headerEnd(bytes) : 0;
  const cuts = [start];
  for (let k = 1; k < parts; k++) {
    const nl = bytes.indexOf(10, Math.max(cuts[cuts.length - 1], Math.floor((k * bytes.length) / parts)));
    if (nl === -1 || nl + 1 >= bytes.length) break;
    if (nl + 1 > cuts[cuts.length - 1]) cuts.push(nl + 1);
  }
  cuts.push(bytes.length);
  return withHeader(bytes, cuts, format);
}

/** Chunks cut just before the given data rows (0-based). */
function rowChunks(bytes: Buffer, rowCuts: number[], format: 'csv' | 'jsonl'): Buffer[] {
  const lineStart = [format === 'csv' ? headerEnd(bytes) : 0];
  for (let p = lineStart[0]; p < bytes.length; ) {
    p = bytes.indexOf(10, p) + 1;
    if (p === 0) break;
    lineStart.push(p);
  }
  return withHeader(bytes, [lineStart[0], ...rowCuts.map((r) => lineStart[r]), bytes.length], format);
}

function withHeader(bytes: Buffer, cuts: number[], format: 'csv' | 'jsonl'): Buffer[] {
  const header = format === 'csv' ? bytes.subarray(0, headerEnd(bytes)) : Buffer.alloc(0);
  const out: Buffer[] = [];
  for (let k = 0; k + 1 < cuts.length; k++) out.push(Buffer.concat([header, bytes.subarray(cuts[k], cuts[k + 1])]));
  expect(Buffer.concat(out.map((c) => c.subarray(header.length))).equals(bytes.subarray(header.length))).toBe(true);
  return out;
}

/** Profiles each chunk, sends every partial through JSON (as via S3), and folds them in file order. */
async function mergedProfile(chunks: Buffer[], options: ProfileOptions) {
  const merger = new ProfileMerger(options);
  for (const c of chunks) merger.add(JSON.parse(JSON.stringify(await profilePartial(source(c), options))) as ProfilePartial);
  return merger.finish();
}

const relClose = (a: number | null, b: number | null, tol: number) => {
  if (a === null || b === null) return expect(a).toBe(b);
  expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b)));
};

/** What a merged report must share with the whole-file one. */
function expectSameReport(merged: QualityReport, whole: QualityReport) {
  expect(QualityReport.parse(merged)).toEqual(merged);
  const { medianIntervalSeconds: _m1, ...summary } = merged.summary;
  const { medianIntervalSeconds: _m2, ...wholeSummary } = whole.summary;
  expect(summary).toEqual(wholeSummary);
  relClose(merged.summary.medianIntervalSeconds, whole.summary.medianIntervalSeconds, 0.05);
  const key = (f: QualityReport['findings'][number]) => ({ check: f.check, column: f.column, severity: f.severity, count: f.count });
  expect(merged.findings.map(key)).toEqual(whole.findings.map(key));
  merged.findings.forEach((f, i) => {
    const w = whole.findings[i];
    expect(f.rangesTruncated).toBe(w.rangesTruncated);
    if (f.check === 'level-shift') {
      // Located on the downsampled series, whose buckets near chunk boundaries may be cut differently.
      expect(f.ranges).toHaveLength(w.ranges.length);
      const tol = 4 * whole.series.rowsPerPoint;
      f.ranges.forEach((r, k) => {
        expect(Math.abs(r.fromLine - w.ranges[k].fromLine)).toBeLessThanOrEqual(tol);
        expect(Math.abs(r.toLine - w.ranges[k].toLine)).toBeLessThanOrEqual(tol);
      });
    } else if (!w.rangesTruncated) expect(f.ranges).toEqual(w.ranges);
    else expect(f.ranges.slice(0, 1)).toEqual(w.ranges.slice(0, 1));
    if (f.check !== 'level-shift' && f.check !== 'operating-modes') expect(f.details).toEqual(w.details);
  });
  expect(merged.columns.map((c) => c.name)).toEqual(whole.columns.map((c) => c.name));
  merged.columns.forEach((c, j) => {
    const w = whole.columns[j];
    expect({ count: c.count, valid: c.valid, missing: c.missing, invalid: c.invalid, min: c.min, max: c.max }).toEqual({ count: w.count, valid: w.valid, missing: w.missing, invalid: w.invalid, min: w.min, max: w.max });
    relClose(c.mean, w.mean, 1e-9);
    relClose(c.std, w.std, 1e-9);
    const span = (w.max ?? 0) - (w.min ?? 0);
    c.quantiles.forEach((q, k) => expect(Math.abs((q.value ?? 0) - (w.quantiles[k].value ?? 0))).toBeLessThanOrEqual(0.02 * span + 1e-12));
    expect(c.histogram.counts.reduce((a, b) => a + b, 0)).toBeCloseTo(w.histogram.counts.reduce((a, b) => a + b, 0), -1);
  });
  expect(merged.series.fromLine[0]).toBe(whole.series.fromLine[0]);
  expect(merged.series.toLine.at(-1)).toBe(whole.series.toLine.at(-1));
  expect(merged.series.fromLine.length).toBeLessThanOrEqual(1024);
}

// A generated file with every kind of finding placed at the chunk boundaries of 2, 3 and 7 equal parts.
const N = 4200;
const CUTS = { 2: [2100], 3: [1400, 2800], 7: [600, 1200, 1800, 2400, 3000, 3600] } as const;
const ALL_CUTS = [...new Set(Object.values(CUTS).flat())].sort((a, b) => a - b);
const COLUMNS = ['a', 'b', 'c', 'd', 'e'];
const SCHEMA: DatasetSchema = {
  timestampColumn: 'timestamp',
  sensorColumns: [{ name: 'a' }, { name: 'b', expectedRange: { min: 0, max: 100 } }, { name: 'c' }, { name: 'd' }, { name: 'e' }],
  labelColumn: 'anomaly',
  expectedIntervalSeconds: 1,
};

function boundaryFile(): string {
  const rnd = noise(7);
  const t0 = Date.UTC(2024, 0, 1);
  const time: (number | string)[] = [];
  let shift = 0;
  for (let i = 0; i < N; i++) time.push(t0 + i * 1000);
  ALL_CUTS.forEach((r, k) => {
    switch (k % 5) {
      case 0: // duplicates: the row before the boundary and the first row after it repeat their predecessor
        time[r - 1] = time[r - 2];
        time[r] = time[r - 1];
        break;
      case 1: // backwards across the boundary
        time[r] = (time[r - 1] as number) - 500;
        break;
      case 2: // a gap of 20 s starting at the boundary
        shift += 20_000;
        break;
      case 3: // no timestamp on the first row after the boundary, an unreadable one on the last before
        time[r] = '';
        time[r - 1] = 'soon';
        break;
      default: // two duplicates right after the boundary
        time[r] = time[r - 1];
        time[r + 1] = time[r - 1];
    }
    if (shift > 0) for (let i = r; i < N; i++) if (typeof time[i] === 'number') time[i] = (time[i] as number) + (k % 5 === 2 ? 20_000 : 0);
  });
  const near = (i: number, from: number, to: number) => ALL_CUTS.some((r) => i >= r + from && i <= r + to);
  const lines = [['timestamp', ...COLUMNS, 'anomaly'].join(',')];
  for (let i = 0; i < N; i++) {
    const t = time[i];
    const ts = typeof t === 'number' ? new Date(t).toISOString() : t;
    const a = (i < 1000 ? 0 : 10) + rnd();
    const b = near(i, -2, 1) ? 150 : 50 + 10 * rnd();
    // c: runs of 80 identical values across each boundary, and a run of 55 (too short) at row 900.
    const c = near(i, -40, 39) ? 5 : i >= 880 && i < 935 ? 6 : rnd();
    // d: missing values across each boundary, a non-numeric cell after it.
    const d = near(i, -1, 2) ? '' : near(i, 5, 5) ? 'err' : (rnd() * 3).toFixed(4);
    // e: one run covering a whole chunk of the 7-way cut (rows 1200-1799) and more.
    const e = i >= 1150 && i < 1850 ? 2 : rnd();
    const label = near(i, 0, 0) ? '' : i % 500 < 20 ? 1 : 0;
    lines.push([ts, a.toFixed(4), b.toFixed(4), typeof c === 'number' ? c.toFixed(4) : c, d, e.toFixed(4), label].join(','));
  }
  return `${lines.join('\n')}\n`;
}

function jsonlFile(): string {
  const rnd = noise(11);
  const t0 = Date.UTC(2024, 2, 1);
  const out: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const t = i === 1500 ? t0 + 1499 * 1000 : i > 2000 ? t0 + (i + 30) * 1000 : t0 + i * 1000;
    const rec: Record<string, unknown> = { ts: new Date(t).toISOString(), temp: 20 + (i > 1700 ? 8 : 0) + rnd(), pressure: i >= 900 && i < 1100 ? 3 : 2 + rnd() };
    if (i % 401 === 7) rec.pressure = null;
    if (i % 997 === 3) rec.temp = 'n/a?';
    out.push(JSON.stringify(rec));
  }
  return `${out.join('\n')}\n`;
}

const OPTIONS: ProfileOptions = { minRowsToTrain: 100, now: NOW };

describe('profile partials merged across chunks', () => {
  const csvBytes = Buffer.from(boundaryFile());

  it('the generated file has every finding, at the boundaries', async () => {
    const whole = await profileDataset(source(csvBytes), { ...OPTIONS, schema: SCHEMA });
    const checks = new Set(whole.findings.map((f) => `${f.check}${f.column ? `:${f.column}` : ''}`));
    for (const c of ['duplicate-timestamps', 'backwards-timestamps', 'time-gaps', 'invalid-timestamps', 'out-of-range:b', 'flatline:c', 'flatline:e', 'missing-values:d', 'non-numeric-values:d', 'level-shift:a'])
      expect(checks, c).toContain(c);
    const dupes = whole.findings.find((f) => f.check === 'duplicate-timestamps');
    // Row r is on line r + 2: the duplicates of the cut at row 600 are rows 599 and 600.
    expect(dupes?.ranges[0]).toMatchObject({ fromLine: 601, toLine: 602, count: 2 });
    const flat = whole.findings.find((f) => f.check === 'flatline' && f.column === 'c');
    expect(flat?.count).toBe(80 * ALL_CUTS.length);
    expect(flat?.ranges[0]).toMatchObject({ fromLine: 562, toLine: 641, count: 80 });
  });

  for (const parts of [2, 3, 7] as const) {
    it(`equals the whole-file profile with ${parts} chunks cut at the boundaries`, async () => {
      const whole = await profileDataset(source(csvBytes), { ...OPTIONS, schema: SCHEMA });
      const merged = await mergedProfile(rowChunks(csvBytes, [...CUTS[parts]], 'csv'), { ...OPTIONS, schema: SCHEMA });
      expectSameReport(merged, whole);
    });

    it(`equals the whole-file profile with ${parts} byte chunks (generated CSV, SKAB, JSON Lines)`, async () => {
      const skab = readFileSync(SKAB);
      const jsonl = Buffer.from(jsonlFile());
      for (const [bytes, format] of [
        [csvBytes, 'csv'],
        [skab, 'csv'],
        [jsonl, 'jsonl'],
      ] as const) {
        const schema = (await profileDataset(source(bytes), OPTIONS)).schema;
        const whole = await profileDataset(source(bytes), { ...OPTIONS, schema });
        const chunks = byteChunks(bytes, parts, format);
        expect(chunks).toHaveLength(parts);
        expectSameReport(await mergedProfile(chunks, { ...OPTIONS, schema }), whole);
      }
    });
  }

  it('finds the same level shift in SKAB whatever the chunks', async () => {
    const skab = readFileSync(SKAB);
    const schema = (await profileDataset(source(skab), OPTIONS)).schema;
    for (const parts of [1, 2, 3, 5, 7, 11]) {
      const r = await mergedProfile(byteChunks(skab, parts, 'csv'), { ...OPTIONS, schema });
      const shifts = r.findings.filter((f) => f.check === 'level-shift');
      expect(shifts.map((f) => f.column)).toEqual(['Temperature']);
      expect(shifts[0].ranges[0].fromLine).toBeGreaterThan(590);
      expect(shifts[0].ranges[0].toLine).toBeLessThan(700);
    }
  });

  it('one chunk merged is exactly profileDataset', async () => {
    for (const bytes of [csvBytes, readFileSync(SKAB), Buffer.from(jsonlFile())]) {
      const whole = await profileDataset(source(bytes), OPTIONS);
      const merger = new ProfileMerger(OPTIONS);
      merger.add(JSON.parse(JSON.stringify(await profilePartial(source(bytes), OPTIONS))) as ProfilePartial);
      expect(merger.finish()).toEqual(whole);
    }
  });

  it('keeps a partial small whatever the rows', async () => {
    const rnd = noise(5);
    const size = async (n: number) => {
      const lines = ['timestamp,x,y'];
      for (let i = 0; i < n; i++) lines.push(`${new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString()},${(10 + rnd()).toFixed(4)},${(i % 1000).toFixed(1)}`);
      const p = await profilePartial(source(Buffer.from(`${lines.join('\n')}\n`)), {});
      expect(p).toMatchObject({ lines: n + 1, headerLines: 1, rows: n });
      return JSON.stringify(p).length;
    };
    const small = await size(50_000);
    const large = await size(200_000);
    expect(large).toBeLessThan(300_000);
    expect(large).toBeLessThan(1.5 * small);
  });

  it('refuses partials computed with other settings or another schema', async () => {
    const bytes = Buffer.from(jsonlFile());
    const p = await profilePartial(source(bytes), { flatlineMinRows: 30 });
    expect(() => new ProfileMerger({}).add(p)).toThrow(/settings|computed with/);
    const m = new ProfileMerger({ flatlineMinRows: 30 });
    m.add(p);
    expect(() => m.add({ ...p, schema: { ...p.schema, timestampColumn: 'other' } })).toThrow(/schema/);
    expect(() => new ProfileMerger().finish()).toThrow(/no profile partial/);
  });
});
