import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { toBuffer, type ByteSource } from '../../../shared/data/byte-source.js';
import { chunkSource, haloOwnLines, planChunks, type ChunkPlan, type PlanInput } from '../../../shared/data/chunk-plan.js';
import { DataValidationError } from '../../../shared/data/errors.js';
import { csv } from './helpers.js';

/** An in-memory object read by ranges, recording the largest read. */
function memory(content: string | Buffer) {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const stats = { reads: 0, largest: 0 };
  const read = (start: number, end: number): Promise<Uint8Array> => {
    if (start < 0 || end > bytes.length || start > end) return Promise.reject(new Error(`bad range ${start}-${end}`));
    stats.reads++;
    stats.largest = Math.max(stats.largest, end - start);
    return Promise.resolve(bytes.subarray(start, end));
  };
  return { bytes, read, stats };
}

async function collect(source: ByteSource): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of source) parts.push(toBuffer(c));
  return Buffer.concat(parts);
}

async function plan(content: string | Buffer, input: Partial<PlanInput> = {}) {
  const m = memory(content);
  const p = await planChunks({ size: m.bytes.length, chunkBytes: 100, haloBytes: 0, ...input }, m.read);
  return { ...m, plan: p };
}

/** The plan's invariants: chunks cover the data once, in order, each starting on a line; halos are whole lines around them. */
function expectWellFormed(bytes: Buffer, p: ChunkPlan, haloBytes: number) {
  const dataStart = p.header?.end ?? 0;
  expect(p.chunks.length).toBeGreaterThan(0);
  expect(p.chunks[0].start).toBe(dataStart);
  expect(p.chunks.at(-1)?.end).toBe(bytes.length);
  p.chunks.forEach((c, i) => {
    expect(c.index).toBe(i);
    if (i > 0) {
      expect(c.start).toBe(p.chunks[i - 1].end);
      expect(c.start).toBeGreaterThan(p.chunks[i - 1].start);
      expect(bytes[c.start - 1]).toBe(0x0a);
    }
    const { halo } = c;
    expect(halo.start).toBeGreaterThanOrEqual(dataStart);
    expect(halo.start).toBeLessThanOrEqual(c.start);
    expect(halo.end).toBeGreaterThanOrEqual(c.end);
    expect(halo.end).toBeLessThanOrEqual(bytes.length);
    expect(c.start - halo.start).toBeLessThanOrEqual(haloBytes);
    if (halo.start > dataStart) expect(bytes[halo.start - 1]).toBe(0x0a);
    if (halo.end < bytes.length) {
      expect(bytes[halo.end - 1]).toBe(0x0a);
      expect(halo.end - c.end).toBeGreaterThanOrEqual(haloBytes);
    }
  });
}

const lines = (b: Buffer) => b.toString('utf8').split('\n');

describe('planChunks', () => {
  const file = csv(300, ['a', 'b'], (i, c) => (i * 7 + c) % 13);

  it.each([
    [100, 0],
    [37, 50],
    [1000, 300],
    [4096, 10_000],
  ])('cuts a CSV into line-aligned chunks (chunkBytes %i, haloBytes %i) that give every row once', async (chunkBytes, haloBytes) => {
    const { bytes, read, plan: p } = await plan(file, { chunkBytes, haloBytes, windowBytes: 16 });
    expect(p.format).toBe('csv');
    expect(p.gzip).toBe(false);
    expect(p.header).toEqual({ start: 0, end: file.indexOf('\n') + 1 });
    expectWellFormed(bytes, p, haloBytes);
    expect(p.chunks.length).toBeGreaterThanOrEqual(Math.min(Math.floor((bytes.length - (p.header?.end ?? 0)) / chunkBytes), 300));

    const headerLine = lines(bytes)[0];
    const rows: string[] = [];
    for (const c of p.chunks) {
      const own = await collect(chunkSource(read, p, c, 'own', { pieceBytes: 64 }));
      const [h, ...rest] = lines(own);
      expect(h).toBe(headerLine);
      expect(rest.at(-1)).toBe('');
      rows.push(...rest.slice(0, -1));
    }
    expect(rows).toEqual(lines(bytes).slice(1, -1));
  });

  it('streams a chunk in bounded pieces, header first', async () => {
    const m = memory(file);
    const p = await planChunks({ size: m.bytes.length, chunkBytes: 5000, haloBytes: 200 }, m.read);
    m.stats.largest = 0;
    const c = p.chunks[1];
    const halo = await collect(chunkSource(m.read, p, c, 'halo', { pieceBytes: 256 }));
    expect(m.stats.largest).toBeLessThanOrEqual(256);
    expect(halo.equals(Buffer.concat([m.bytes.subarray(0, p.header?.end), m.bytes.subarray(c.halo.start, c.halo.end)]))).toBe(true);
  });

  it('keeps \\r\\n line ends whole and handles a last line without newline', async () => {
    const crlf = file.replaceAll('\n', '\r\n').replace(/\r\n$/, '');
    const { bytes, read, plan: p } = await plan(crlf, { chunkBytes: 333, haloBytes: 90 });
    expectWellFormed(bytes, p, 90);
    expect(p.chunks.length).toBeGreaterThan(5);
    const own = await Promise.all(p.chunks.map(async (c) => (await collect(chunkSource(read, p, c, 'own'))).subarray(p.header?.end)));
    expect(Buffer.concat(own).toString()).toBe(crlf.slice(crlf.indexOf('\r\n') + 2));
    for (const o of own.slice(0, -1)) expect(o.subarray(-2).toString()).toBe('\r\n');
    expect(own.at(-1)?.at(-1)).not.toBe(0x0a);
  });

  it('plans JSON Lines without header, from byte 0, leading blank lines included', async () => {
    const jsonl = `\n  \n${Array.from({ length: 200 }, (_, i) => JSON.stringify({ time: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(), a: i })).join('\n')}\n`;
    const { bytes, read, plan: p } = await plan(jsonl, { chunkBytes: 500, haloBytes: 120 });
    expect(p.format).toBe('jsonl');
    expect(p.header).toBeNull();
    expectWellFormed(bytes, p, 120);
    const all = await Promise.all(p.chunks.map((c) => collect(chunkSource(read, p, c, 'own'))));
    expect(Buffer.concat(all).equals(bytes)).toBe(true);
  });

  it('finds the header after a BOM and blank lines', async () => {
    const text = `\uFEFF\n \r\ntimestamp;a\n2024-01-01 00:00:00;1\n`;
    const { plan: p } = await plan(text);
    expect(p.format).toBe('csv');
    expect(p.header).toEqual({ start: 0, end: Buffer.byteLength(text) - '2024-01-01 00:00:00;1\n'.length });
    expect(p.chunks).toHaveLength(1);
  });

  it('plans a file smaller than a chunk as one chunk, and a header-only or empty file as one empty chunk', async () => {
    const small = await plan(file, { chunkBytes: 1 << 20, haloBytes: 1000 });
    expect(small.plan.chunks).toEqual([{ index: 0, start: small.plan.header?.end, end: small.bytes.length, halo: { start: small.plan.header?.end, end: small.bytes.length } }]);
    const headerOnly = await plan('timestamp,a\n', { haloBytes: 10 });
    expect(headerOnly.plan.chunks).toEqual([{ index: 0, start: 12, end: 12, halo: { start: 12, end: 12 } }]);
    const empty = await plan('');
    expect(empty.plan).toEqual({ format: 'csv', gzip: false, header: null, chunks: [{ index: 0, start: 0, end: 0, halo: { start: 0, end: 0 } }] });
  });

  it('plans gzip as one chunk, the whole file, with the format of the inflated head', async () => {
    const gz = gzipSync(Buffer.from(`{"time": 1, "a": 2}\n`.repeat(1000)));
    const { plan: p } = await plan(gz, { chunkBytes: 10, haloBytes: 5 });
    expect(p).toEqual({ format: 'jsonl', gzip: true, header: null, chunks: [{ index: 0, start: 0, end: gz.length, halo: { start: 0, end: gz.length } }] });
    expect((await plan(gzipSync(Buffer.from(file)))).plan.format).toBe('csv');
  });

  it('moves past a line longer than a chunk without empty chunks, growing its window', async () => {
    const text = `timestamp,a\n${'2024-01-01T00:00:00Z,1\n'.repeat(5)}2024-01-01T00:00:06Z,${'9'.repeat(3000)}\n${'2024-01-01T00:00:07Z,1\n'.repeat(5)}`;
    const { bytes, plan: p } = await plan(text, { chunkBytes: 40, haloBytes: 30, windowBytes: 8 });
    expectWellFormed(bytes, p, 30);
    const long = p.chunks.find((c) => c.end - c.start > 3000);
    expect(long).toBeDefined();
  });

  it('fails with LINE_TOO_LONG when a line at a boundary exceeds maxLineBytes', async () => {
    const text = `timestamp,a\n2024-01-01T00:00:00Z,1\n2024-01-01T00:00:01Z,${'9'.repeat(5000)}\n2024-01-01T00:00:02Z,1\n`;
    const m = memory(text);
    const error = await planChunks({ size: m.bytes.length, chunkBytes: 1000, haloBytes: 0, maxLineBytes: 1024, windowBytes: 64 }, m.read).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataValidationError);
    expect((error as DataValidationError).code).toBe('LINE_TOO_LONG');
    expect(m.stats.largest).toBeLessThanOrEqual(1025);
    // The header line too.
    const wide = memory(`${'x,'.repeat(2000)}y\n1,2\n`);
    await expect(planChunks({ size: wide.bytes.length, chunkBytes: 10, haloBytes: 0, maxLineBytes: 1024 }, wide.read)).rejects.toMatchObject({ code: 'LINE_TOO_LONG' });
  });

  it('rejects nonsense sizes', async () => {
    const m = memory(file);
    await expect(planChunks({ size: m.bytes.length, chunkBytes: 0, haloBytes: 0 }, m.read)).rejects.toThrow(RangeError);
    await expect(planChunks({ size: m.bytes.length, chunkBytes: 10, haloBytes: -1 }, m.read)).rejects.toThrow(RangeError);
  });
});

describe('haloOwnLines', () => {
  it.each([
    ['CSV', csv(120, ['a'], (i) => i), 200],
    ['CSV with \\r\\n and no last newline', csv(120, ['a'], (i) => i).replaceAll('\n', '\r\n').slice(0, -2), 200],
    ['JSON Lines', Array.from({ length: 120 }, (_, i) => JSON.stringify({ t: i, a: i })).join('\n'), 150],
  ])('locates the own lines of every chunk in its halo source (%s)', async (_name, text, chunkBytes) => {
    const { read, plan: p } = await plan(text, { chunkBytes, haloBytes: 90 });
    expect(p.chunks.length).toBeGreaterThan(3);
    for (const c of p.chunks) {
      const haloLines = (await collect(chunkSource(read, p, c, 'halo'))).toString().split('\n');
      const ownText = Buffer.from(text).subarray(c.start, c.end).toString();
      const ownLines = ownText.split('\n');
      if (ownText.endsWith('\n')) ownLines.pop();
      const { from, to } = await haloOwnLines(read, p, c);
      expect(to - from).toBe(ownLines.length);
      expect(haloLines.slice(from - 1, to - 1)).toEqual(ownLines);
      if (p.header) expect(from).toBeGreaterThan(1);
      expect(await haloOwnLines(read, p, c, ownLines.length)).toEqual({ from, to });
    }
  });
});
