import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CsvByteWriter } from '../../../shared/data/csv-writer.js';

async function written(write: (w: CsvByteWriter) => void): Promise<string> {
  const parts: Buffer[] = [];
  const w = new CsvByteWriter(new Writable({ write: (c: Buffer, _e, cb) => (parts.push(c), cb()) }));
  write(w);
  await w.flush(true);
  return Buffer.concat(parts).toString();
}

describe('CsvByteWriter', () => {
  it.each([
    [0, '0'],
    [-1, '-1'],
    [0.5, '0.5'],
    [13.9884, '13.9884'],
    [0.1 + 0.2, '0.3'],
    [1 / 3, '0.3333333333'],
    [-0.000123456789012, '-0.000123456789'],
    [123456789.123, '123456789.1'],
    [1e-7, '1e-7'],
    [2.5e20, '250000000000000000000'],
    [Number.NaN, ''],
  ])('writes %d as %j (10 significant digits)', async (x, text) => {
    expect(await written((w) => w.number(x, 10))).toBe(text);
  });

  it('round-trips random values of every magnitude to the requested precision', async () => {
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const xs = Array.from({ length: 20_000 }, (_, i) => (rnd() - 0.5) * 10 ** ((i % 24) - 8));
    const text = await written((w) => xs.forEach((x) => (w.number(x, 10), w.byte(10))));
    const back = text.trimEnd().split('\n').map(Number);
    back.forEach((y, i) => expect(Math.abs(y - xs[i])).toBeLessThanOrEqual(Math.abs(xs[i]) * 5e-10));
  });

  it('writes ISO timestamps, with milliseconds only when there are some', async () => {
    const text = await written((w) => {
      w.timestamp(Date.UTC(2024, 1, 29, 23, 59, 59));
      w.byte(10);
      w.timestamp(Date.UTC(1969, 11, 31, 0, 0, 0, 5));
    });
    expect(text).toBe('2024-02-29T23:59:59Z\n1969-12-31T00:00:00.005Z');
  });
});
