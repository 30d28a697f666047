import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { sourceFromRecords, sourceFromText } from '../../../shared/data/byte-source.js';
import { DataValidationError } from '../../../shared/data/errors.js';
import { preprocessDataset, preprocessToRecords } from '../../../shared/data/preprocess-dataset.js';
import { PreprocessRecipe, PreprocessResult } from '../../../shared/data/preprocess-recipe.js';
import { csv } from './helpers.js';

const T0 = Date.UTC(2024, 0, 1);
const iso = (s: number) => new Date(T0 + s * 1000).toISOString().replace('.000Z', 'Z');
const rows = (pairs: [number, number | null][]) => pairs.map(([s, v]) => ({ time: iso(s), v }));
const values = (records: Record<string, unknown>[]) => records.map((r) => r.v);

describe('preprocessToRecords', () => {
  it('sorts rows that arrive out of order within the window', async () => {
    const { records, result } = await preprocessToRecords(
      sourceFromRecords(rows([
        [2, 2],
        [0, 0],
        [1, 1],
        [3, 3],
      ])),
      {},
    );
    expect(records.map((r) => r.time)).toEqual([iso(0), iso(1), iso(2), iso(3)]);
    expect(result.reordered).toBe(2);
  });

  it('fails with UNSORTED_BEYOND_WINDOW when rows are further out of order than the window', async () => {
    const input = rows([10, 9, 8, 7, 6, 5].map((s) => [s, s]));
    const error = await preprocessToRecords(sourceFromRecords(input), { reorderWindowRows: 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataValidationError);
    expect((error as DataValidationError).code).toBe('UNSORTED_BEYOND_WINDOW');
  });

  it('drops exact duplicates but keeps rows that share only the timestamp', async () => {
    const { records, result } = await preprocessToRecords(
      sourceFromRecords(rows([
        [0, 1],
        [0, 1],
        [0, 2],
        [1, 5],
        [0, 1],
      ])),
      {},
    );
    expect(values(records)).toEqual([1, 2, 5]);
    expect(result.droppedDuplicates).toBe(2);
  });

  it('resamples to the interval with the mean of each bucket and writes empty buckets as missing', async () => {
    const { records, result } = await preprocessToRecords(
      sourceFromRecords(rows([
        [0, 1],
        [3, 3],
        [10, 10],
        [40, 4],
      ])),
      { resample: { intervalSeconds: 10 } },
    );
    expect(records.map((r) => [r.time, r.v])).toEqual([
      [iso(0), 2],
      [iso(10), 10],
      [iso(20), null],
      [iso(30), null],
      [iso(40), 4],
    ]);
    expect(result).toMatchObject({ emptyBuckets: 2, rowsOut: 5, missingOut: 2, intervalSeconds: 10 });
  });

  it('bounds the output by the input: rows out <= (1 + maxEmptyBuckets) x rows in, and reports the empty buckets refused', async () => {
    // 20 readings 5,000 s apart, resampled to a second: filling every gap would write 95,000 rows.
    const input = rows(Array.from({ length: 20 }, (_, i): [number, number] => [i * 5000, i]));
    for (const recipe of [{ resample: { intervalSeconds: 1 } }, { resample: { intervalSeconds: 1, maxEmptyBuckets: 1000 } }, { resample: { intervalSeconds: 1 }, impute: {} }]) {
      const { records, result } = await preprocessToRecords(sourceFromRecords(input), recipe);
      const maxEmpty = recipe.resample.maxEmptyBuckets ?? 100;
      expect(records.length).toBeLessThanOrEqual((1 + maxEmpty) * 20);
      expect(result).toMatchObject({ rowsIn: 20, rowsOut: 20, emptyBuckets: 0, gapsLeft: 19, emptyBucketsRefused: 19 * 4999 });
    }
    // Short gaps are still filled: the bound refuses only what exceeds maxEmptyBuckets.
    const near = rows([
      [0, 1],
      [100, 2],
      [102, 3],
    ]);
    const { result } = await preprocessToRecords(sourceFromRecords(near), { resample: { intervalSeconds: 1 } });
    expect(result).toMatchObject({ rowsOut: 103, emptyBuckets: 100, gapsLeft: 0, emptyBucketsRefused: 0 });
  });

  it('refuses a recipe that lets one row become more than 1,001', async () => {
    await expect(preprocessToRecords(sourceFromRecords(rows([[0, 1]])), { resample: { intervalSeconds: 1, maxEmptyBuckets: 1001 } })).rejects.toThrow(/maxEmptyBuckets/);
  });

  it('refuses records over maxOutputBytes with OUTPUT_TOO_LARGE, never a silent cut', async () => {
    const input = rows(Array.from({ length: 50 }, (_, i): [number, number] => [i * 1000, i]));
    const error = await preprocessToRecords(sourceFromRecords(input), { resample: { intervalSeconds: 1, maxEmptyBuckets: 1000 } }, { maxOutputBytes: 100_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataValidationError);
    expect((error as DataValidationError).issues).toEqual([expect.objectContaining({ code: 'OUTPUT_TOO_LARGE' })]);
    // Under the cap, the same data is answered whole.
    const { records } = await preprocessToRecords(sourceFromRecords(input), { resample: { intervalSeconds: 1, maxEmptyBuckets: 1000 } }, { maxOutputBytes: 10_000_000 });
    expect(records).toHaveLength(49 * 1000 + 1);
  });

  it('fills gaps of at most maxGapRows linearly in time and leaves longer ones missing', async () => {
    const input = rows([
      [0, 0],
      [1, null],
      [2, null],
      [3, 30],
      [4, null],
      [5, null],
      [6, null],
      [7, 70],
      [8, null],
    ]);
    const { records, result } = await preprocessToRecords(sourceFromRecords(input), { impute: { maxGapRows: 2 } });
    expect(values(records)).toEqual([0, 10, 20, 30, null, null, null, 70, null]);
    expect(result.imputed).toBe(2);
    const ffill = await preprocessToRecords(sourceFromRecords(input), { impute: { method: 'ffill', maxGapRows: 3 } });
    expect(values(ffill.records)).toEqual([0, 0, 0, 30, 30, 30, 30, 70, null]);
  });

  it('fits z-score parameters when a source factory is given, and records them', async () => {
    const input = rows([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
    const { records, result } = await preprocessToRecords(() => sourceFromRecords(input), { scale: { method: 'zscore' } });
    expect(values(records)).toEqual([-1, 0, 1]);
    expect(result.scale).toEqual({ method: 'zscore', params: { v: { center: 2, scale: 1 } } });
  });

  it('applies given min-max parameters without a second pass', async () => {
    const input = rows([
      [0, 5],
      [1, 15],
    ]);
    const { records } = await preprocessToRecords(sourceFromRecords(input), { scale: { method: 'minmax', params: { v: { center: 5, scale: 10 } } } });
    expect(values(records)).toEqual([0, 1]);
  });

  it('refuses to fit scaling on a one-shot source', async () => {
    await expect(preprocessToRecords(sourceFromRecords(rows([[0, 1]])), { scale: { method: 'zscore' } })).rejects.toMatchObject({ code: 'INVALID_RECIPE' });
  });

  it('adds rolling mean, std, min and max over the window', async () => {
    const input = rows([3, 1, 4, 1, 5].map((v, s) => [s, v]));
    const { records, result } = await preprocessToRecords(sourceFromRecords(input), { windowFeatures: { window: 3 } });
    expect(result.columns).toEqual(['time', 'v', 'v_mean_3', 'v_std_3', 'v_min_3', 'v_max_3']);
    expect(records.map((r) => r.v_mean_3)).toEqual([3, 2, expect.closeTo(8 / 3, 12), 2, expect.closeTo(10 / 3, 12)]);
    expect(records.map((r) => r.v_min_3)).toEqual([3, 1, 1, 1, 1]);
    expect(records.map((r) => r.v_max_3)).toEqual([3, 3, 4, 4, 5]);
    expect(records[1].v_std_3).toBeCloseTo(Math.SQRT2, 12);
    expect(records[0].v_std_3).toBeNull();
  });

  it('rejects an invalid recipe with INVALID_RECIPE', async () => {
    await expect(preprocessToRecords(sourceFromRecords(rows([[0, 1]])), { windowFeatures: { window: 1 } })).rejects.toMatchObject({ code: 'INVALID_RECIPE' });
    await expect(preprocessToRecords(sourceFromRecords(rows([[0, 1]])), { windowFeatures: { window: 2, columns: ['nope'] } })).rejects.toMatchObject({ code: 'INVALID_RECIPE' });
  });

  it('drops rows without a readable timestamp and counts them', async () => {
    const { result } = await preprocessToRecords(sourceFromText('time,v\n2024-01-01T00:00:00Z,1\nlater,2\n2024-01-01T00:00:01Z,3\n'), {});
    expect(result).toMatchObject({ rowsIn: 3, rowsOut: 2, droppedInvalidTime: 1 });
  });
});

describe('preprocessDataset', () => {
  it('streams CSV to a Writable, honouring its back-pressure', async () => {
    const chunks: Buffer[] = [];
    let writes = 0;
    const out = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _enc, cb) {
        writes++;
        chunks.push(chunk);
        setImmediate(cb);
      },
    });
    const text = csv(20_000, ['a', 'b'], (i, c) => (c === 0 ? i % 7 : i / 8));
    const result = await preprocessDataset(() => sourceFromText(text), out, { reorderWindowRows: 100, resample: {}, impute: {}, scale: { method: 'minmax' } });
    expect(PreprocessResult.parse(result)).toEqual(result);
    const lines = Buffer.concat(chunks).toString().trimEnd().split('\n');
    expect(lines[0]).toBe('timestamp,a,b');
    expect(lines).toHaveLength(20_001);
    expect(lines[1]).toBe('2024-01-01T00:00:00Z,0,0');
    expect(lines[2]).toBe('2024-01-01T00:00:01Z,0.1666666667,0.00005000250013');
    expect(lines[20_000]).toBe('2024-01-01T05:33:19Z,0,1');
    expect(writes).toBeGreaterThan(1);
  });

  it('has defaults a handler can rely on', () => {
    expect(PreprocessRecipe.parse({})).toMatchObject({ sort: true, dropDuplicates: true, reorderWindowRows: 50_000, significantDigits: 10 });
  });
});
