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

  it('writes a row as timestamp(), field() per value and a line feed would, and counts its missing values', async () => {
    let seed = 11;
    const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const width = 6;
    const rows = 3000;
    const data = Float64Array.from({ length: rows * width }, () => {
      const k = rnd();
      if (k < 0.1) return Number.NaN;
      if (k < 0.15) return k < 0.13 ? 0 : -0;
      if (k < 0.5) return Math.round((rnd() - 0.3) * 1e6) / 10 ** Math.floor(rnd() * 8);
      if (k < 0.6) return 2147.483647 * (1 + (rnd() - 0.5) * 1e-9);
      if (k < 0.7) return 1e-6 * (1 + (rnd() - 0.5) * 1e-9);
      return (rnd() - 0.5) * 10 ** (Math.floor(rnd() * 40) - 20);
    });
    const times = Array.from({ length: rows }, (_, i) => Date.UTC(2024, 0, 1) + i * 997 + (i % 7 === 0 ? 0.5 : 0));
    for (const significant of [3, 10, 17]) {
      const expected = await written((w) => {
        for (let r = 0; r < rows; r++) {
          w.timestamp(times[r]);
          for (let i = 0; i < width; i++) w.field(data[r * width + i], significant);
          w.byte(10);
        }
      });
      let missing = 0;
      const got = await written((w) => {
        for (let r = 0; r < rows; r++) missing += w.row(times[r], data, r * width, width, significant);
      });
      expect(got).toBe(expected);
      expect(missing).toBe(data.filter((x) => Number.isNaN(x)).length);
    }
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
