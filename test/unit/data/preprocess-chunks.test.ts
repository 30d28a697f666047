/**
 * Preprocessing in chunks ("ghost cells"): a file cut into newline-aligned byte ranges, each chunk
 * read with a halo of its neighbours' rows and given its own lines, must give outputs whose
 * concatenation is, byte for byte, the whole file's output, with counts that sum to the whole
 * file's. The halo sources are built here as the production planner builds them: the header line,
 * then whole lines before, in and after the chunk.
 */
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { sourceFromText } from '../../../shared/data/byte-source.js';
import type { DatasetSchema } from '../../../shared/data/dataset-schema.js';
import { DataValidationError } from '../../../shared/data/errors.js';
import { preprocessDataset, type PreprocessOptions } from '../../../shared/data/preprocess-dataset.js';
import type { PreprocessRecipeInput, PreprocessResult } from '../../../shared/data/preprocess-recipe.js';

const fixture = readFileSync(new URL('../../fixtures/data/skab-valve1-0.csv', import.meta.url), 'utf8');

async function preprocess(text: string | Buffer, recipe: PreprocessRecipeInput, options: PreprocessOptions): Promise<{ out: Buffer; result: PreprocessResult }> {
  const parts: Buffer[] = [];
  const out = new Writable({ write: (c: Buffer, _e, cb) => (parts.push(c), cb()) });
  const result = await preprocessDataset(sourceFromText(typeof text === 'string' ? text : text.toString('utf8')), out, recipe, options);
  return { out: Buffer.concat(parts), result };
}

/** The recipe of the pipeline's preprocess step. */
const pipelineRecipe = (schema: DatasetSchema, sort: boolean): PreprocessRecipeInput => ({
  sort,
  dropDuplicates: true,
  ...(schema.expectedIntervalSeconds ? { resample: {} } : {}),
  impute: { method: 'linear' },
});

interface Halo {
  /** Whole lines on each side... */
  rows?: number;
  /** ...or as many whole lines as fit in this many bytes. */
  bytes?: number;
}

interface ChunkSource {
  text: Buffer;
  ownLines: { from: number; to: number };
}

/** Line starts (byte offsets) of the data lines after the header, and the end of the data. */
function dataLines(bytes: Buffer): { headerEnd: number; starts: number[] } {
  const headerEnd = bytes.indexOf(10) + 1;
  const starts: number[] = [];
  for (let p = headerEnd; p < bytes.length; p = bytes.indexOf(10, p) + 1 || bytes.length) starts.push(p);
  return { headerEnd, starts };
}

/** The chunks' halo sources for chunk boundaries given as data line indices (0-based, increasing, inside the data). */
function chunkSources(bytes: Buffer, cuts: number[], halo: Halo): ChunkSource[] {
  const { headerEnd, starts } = dataLines(bytes);
  const at = (i: number) => (i < starts.length ? starts[i] : bytes.length);
  const bounds = [0, ...cuts, starts.length];
  const header = bytes.subarray(0, headerEnd);
  return bounds.slice(0, -1).map((first, c) => {
    const end = bounds[c + 1];
    let before = first;
    let after = end;
    if (halo.rows !== undefined) {
      before = Math.max(0, first - halo.rows);
      after = Math.min(starts.length, end + halo.rows);
    } else {
      const budget = halo.bytes ?? 0;
      while (before > 0 && at(first) - at(before - 1) <= budget) before--;
      while (after < starts.length && at(after + 1) - at(end) <= budget) after++;
    }
    const from = 2 + (first - before);
    const last = c === bounds.length - 2;
    return {
      text: Buffer.concat([header, bytes.subarray(at(before), at(after))]),
      ownLines: { from, to: last ? Number.POSITIVE_INFINITY : from + (end - first) },
    };
  });
}

/** `parts` chunks of about equal size, cut at line starts (a pseudo-random jitter moves the cuts). */
function evenCuts(lines: number, parts: number, seed: number): number[] {
  let s = seed;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const cuts: number[] = [];
  for (let c = 1; c < parts; c++) {
    const jitter = Math.floor((rnd() - 0.5) * (lines / parts / 2));
    const cut = Math.min(lines - (parts - c), Math.max((cuts.at(-1) ?? 0) + 1, Math.round((c * lines) / parts) + jitter));
    cuts.push(cut);
  }
  return cuts;
}

/** The whole file's output, per file, schema and sort (the exhaustive test reuses it for every cut). */
const wholeOutputs = new Map<string, Promise<{ out: Buffer; result: PreprocessResult }>>();

const COUNTS = ['rowsIn', 'rowsOut', 'droppedInvalidTime', 'droppedDuplicates', 'reordered', 'emptyBuckets', 'gapsLeft', 'emptyBucketsRefused', 'imputed', 'missingOut'] as const;

/** Preprocesses the chunks, checks the joined output and the summed counts against the whole file's. */
async function expectChunksMatch(text: string, schema: DatasetSchema, sort: boolean, cuts: number[], halo: Halo): Promise<void> {
  const recipe = pipelineRecipe(schema, sort);
  const key = JSON.stringify([text, schema, sort]);
  if (!wholeOutputs.has(key)) wholeOutputs.set(key, preprocess(text, recipe, { schema }));
  const whole = await (wholeOutputs.get(key) as Promise<{ out: Buffer; result: PreprocessResult }>);
  const sources = chunkSources(Buffer.from(text), cuts, halo);
  const outs: Buffer[] = [];
  const results: PreprocessResult[] = [];
  for (const [c, s] of sources.entries()) {
    const { out, result } = await preprocess(s.text, recipe, { schema, ownLines: s.ownLines, header: c === 0 });
    outs.push(out);
    results.push(result);
  }
  const where = `cuts ${JSON.stringify(cuts)}, halo ${JSON.stringify(halo)}, sort ${sort}`;
  expect(Buffer.concat(outs).toString(), where).toBe(whole.out.toString());
  const sums = Object.fromEntries(COUNTS.map((k) => [k, results.reduce((a, r) => a + r[k], 0)]));
  expect(sums, where).toEqual(Object.fromEntries(COUNTS.map((k) => [k, whole.result[k]])));
  const ranges = results.filter((r) => r.timeRange).map((r) => r.timeRange as { start: string; end: string });
  expect(ranges.length > 0 ? { start: ranges[0].start, end: (ranges.at(-1) as { end: string }).end } : undefined, where).toEqual(whole.result.timeRange);
  for (const r of results) expect(r.columns).toEqual(whole.result.columns);
}

/**
 * A file in time order with what makes chunking hard, densely enough that every boundary meets
 * some of it: several rows per 10 s bucket, repeated timestamps, exact duplicate rows, short runs
 * of missing values (imputed) and long ones (not), empty buckets, a gap longer than maxEmptyBuckets,
 * missing and unreadable timestamps, and a 0/1 label.
 */
function generated(rows: number, seed: number): string {
  let s = seed;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  let t = Date.UTC(2024, 0, 1, 0, 0, 3);
  const lines = ['time,a,b,c,label'];
  const missing = [0, 0, 0];
  let previous = '';
  for (let i = 0; i < rows; i++) {
    const r = rnd();
    if (r < 0.08 && previous) {
      lines.push(previous); // an exact duplicate
      continue;
    }
    if (r < 0.11) {
      lines.push(`${r < 0.095 ? '' : 'not a time'},1,2,3,0`); // a row dropped for its time
      continue;
    }
    const step = r < 0.2 ? 0 : r < 0.9 ? 1000 + Math.floor(rnd() * 4) * 1000 : r < 0.995 ? 15_000 + Math.floor(rnd() * 60) * 1000 : 2 * 86_400_000;
    t += step;
    const cells = [0, 1, 2].map((c) => {
      if (missing[c] > 0) {
        missing[c]--;
        return '';
      }
      if (rnd() < 0.06) {
        missing[c] = Math.floor(rnd() * 9); // runs of 1 to 9: up to 5 are imputed
        return '';
      }
      return (10 * (c + 1) + Math.sin(t / 60_000) + rnd()).toFixed(3);
    });
    const line = [new Date(t).toISOString(), ...cells, rnd() < 0.05 ? '1' : '0'].join(',');
    lines.push(line);
    previous = line;
  }
  return `${lines.join('\n')}\n`;
}

const genSchema = (interval?: number): DatasetSchema => ({
  timestampColumn: 'time',
  sensorColumns: [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
  labelColumn: 'label',
  ...(interval ? { expectedIntervalSeconds: interval } : {}),
});

const skabSchema: DatasetSchema = {
  delimiter: ';',
  timestampColumn: 'datetime',
  sensorColumns: ['Accelerometer1RMS', 'Accelerometer2RMS', 'Current', 'Pressure', 'Temperature', 'Thermocouple', 'Voltage', 'Volume Flow RateRMS'].map((name) => ({ name })),
  labelColumn: 'anomaly',
  expectedIntervalSeconds: 1,
};

describe('preprocessing in chunks with halos', () => {
  const lineCount = (text: string) => dataLines(Buffer.from(text)).starts.length;

  describe.each([true, false])('sort %s', (sort) => {
    it.each([2, 3, 7])('the SKAB fixture (1 s, resampled) in %i chunks joins to the whole output', async (parts) => {
      const n = lineCount(fixture);
      for (const halo of [{ rows: 3 }, { rows: 20 }, { bytes: 2048 }, { bytes: 8192 }]) await expectChunksMatch(fixture, skabSchema, sort, evenCuts(n, parts, parts * 31), halo);
    });

    it.each([2, 3, 7])('a file with duplicates, gaps and buckets across boundaries, resampled, in %i chunks', async (parts) => {
      for (const seed of [1, 2, 3]) {
        const text = generated(1500, seed);
        const n = lineCount(text);
        for (const halo of [{ rows: 80 }, { rows: 200 }, { bytes: 3000 }, { bytes: 6000 }]) await expectChunksMatch(text, genSchema(10), sort, evenCuts(n, parts, seed * 7 + parts), halo);
      }
    });

    it.each([2, 3, 7])('a file without resampling in %i chunks', async (parts) => {
      for (const seed of [4, 5]) {
        const text = generated(1500, seed);
        const n = lineCount(text);
        for (const halo of [{ rows: 12 }, { rows: 40 }, { bytes: 1000 }, { bytes: 4000 }]) await expectChunksMatch(text, genSchema(), sort, evenCuts(n, parts, seed * 11 + parts), halo);
      }
    });
  });

  it('is exact at every possible boundary of a two-chunk split', async () => {
    const text = generated(300, 9);
    const n = lineCount(text);
    for (let cut = 1; cut < n; cut++) {
      await expectChunksMatch(text, genSchema(10), false, [cut], { rows: 80 });
      await expectChunksMatch(text, genSchema(), true, [cut], { rows: 12 });
    }
  });

  it('writes the header only when asked and counts the own lines only', async () => {
    const text = 'time,v\n2024-01-01T00:00:00Z,1\n2024-01-01T00:00:01Z,2\n2024-01-01T00:00:02Z,3\n2024-01-01T00:00:03Z,4\n';
    const schema = { timestampColumn: 'time', sensorColumns: [{ name: 'v' }] };
    const { out, result } = await preprocess(text, {}, { schema, ownLines: { from: 3, to: 5 }, header: false });
    expect(out.toString()).toBe('2024-01-01T00:00:01Z,2\n2024-01-01T00:00:02Z,3\n');
    expect(result).toMatchObject({ rowsIn: 2, rowsOut: 2, timeRange: { start: '2024-01-01T00:00:01Z', end: '2024-01-01T00:00:02Z' } });
  });

  it('refuses to fit scaling on a chunk', async () => {
    const error = await preprocess('time,v\n2024-01-01T00:00:00Z,1\n', { scale: { method: 'zscore' } }, { ownLines: { from: 2, to: 3 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataValidationError);
    expect((error as DataValidationError).message).toMatch(/chunk/);
  });
});
