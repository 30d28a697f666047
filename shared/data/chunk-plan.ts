/**
 * Cutting a large file into byte-range chunks that separate functions process in parallel. A
 * chunk is [start, end) of the raw file, both just after a newline (or at the data start / the
 * file end), so that every line falls in exactly one chunk. A chunk's source is the CSV header
 * line followed by the chunk's bytes (JSON Lines: the chunk's bytes alone), read by ranges, so a
 * chunk reads like a small file of the same columns. Its halo is the chunk widened by about
 * haloBytes of whole lines on each side, for stages that need neighbouring rows.
 *
 * Limits of chunked reading: a cut may fall inside a quoted CSV field holding a line break (the
 * chunk then reports UNCLOSED_QUOTE, and the pipeline reads the whole file instead), and gzip cannot be cut at
 * byte offsets (a gzip file is planned as one chunk, the whole file). Pure domain code: the bytes
 * come from a readRange function (a ranged GET on S3 in production).
 */
import { gunzipSync, constants as zlibConstants } from 'node:zlib';
import type { ByteSource } from './byte-source.js';
import { DataValidationError } from './errors.js';
import { DEFAULT_MAX_LINE_BYTES } from './line-reader.js';

/** Bytes [start, end) of the object. */
export type ReadRange = (start: number, end: number) => Promise<Uint8Array>;

export interface ByteRange {
  start: number;
  end: number;
}

export interface PlannedChunk extends ByteRange {
  index: number;
  /** The chunk widened by about haloBytes of whole lines on each side, never into the header. */
  halo: ByteRange;
}

export interface ChunkPlan {
  format: 'csv' | 'jsonl';
  /** Gzip: one chunk, the whole file, with no header range (it is inside the compressed stream). */
  gzip: boolean;
  /** The CSV header line (with any blank lines and BOM before it); null for JSON Lines. */
  header: ByteRange | null;
  /** In file order, covering the data exactly once; at least one (possibly empty). */
  chunks: PlannedChunk[];
}

export interface PlanInput {
  size: number;
  /** About this many bytes per chunk. */
  chunkBytes: number;
  /** About this many bytes of neighbouring lines on each side of a chunk. */
  haloBytes: number;
  /** A line longer than this fails the plan (LINE_TOO_LONG), as it would fail reading. */
  maxLineBytes?: number;
  /** Bytes read around a nominal boundary to find a newline (doubled while none is found). */
  windowBytes?: number;
  /** Ranged reads in flight at once. */
  concurrency?: number;
}

const NL = 0x0a;
const DEFAULT_WINDOW = 64 * 1024;
const DEFAULT_PIECE = 8 * 1024 * 1024;

async function mapLimit<T, R>(items: readonly T[], limit: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

function newlineFinder(read: ReadRange, size: number, maxLineBytes: number, windowBytes: number) {
  const readExact = async (start: number, end: number): Promise<Uint8Array> => {
    const b = await read(start, end);
    if (b.length !== end - start) throw new Error(`readRange(${start}, ${end}) returned ${b.length} bytes`);
    return b;
  };
  /** Index of the first newline at or after `from`, or size when there is none. */
  const newlineFrom = async (from: number): Promise<number> => {
    let p = from;
    let w = windowBytes;
    while (p < size) {
      // A newline must come within maxLineBytes + 1 bytes of any position, else its line is too long.
      const limit = from + maxLineBytes + 1;
      const end = Math.min(size, p + w, limit);
      const bytes = await readExact(p, end);
      const i = bytes.indexOf(NL);
      if (i !== -1) return p + i;
      p = end;
      if (p >= limit && p < size)
        throw DataValidationError.of('LINE_TOO_LONG', `A line around byte ${from} is longer than ${maxLineBytes} bytes: the file is not line-oriented data (or a quoted field spans lines, which a split file does not support).`);
      w *= 2;
    }
    return size;
  };
  /** The first line start at or after x (x itself when a newline is just before it), or size. */
  const lineStartFrom = async (x: number): Promise<number> => {
    if (x <= 0) return 0;
    if (x >= size) return size;
    const nl = await newlineFrom(x - 1);
    return Math.min(size, nl + 1);
  };
  return { newlineFrom, lineStartFrom, readExact };
}

const isBlank = (line: Uint8Array) => Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString('utf8').trim().length === 0;
const startsJson = (text: string) => text.trimStart().startsWith('{');

/** Format of a gzip file from its inflated head (csv when the head does not inflate: reading the file will say why). */
function gzipFormat(head: Uint8Array): 'csv' | 'jsonl' {
  try {
    const text = gunzipSync(head, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).toString('utf8');
    return startsJson(text) ? 'jsonl' : 'csv';
  } catch {
    return 'csv';
  }
}

/**
 * Plans the chunks of a file of `size` bytes: finds the header line (the first non-blank line;
 * a file whose first non-blank character is `{` is JSON Lines, without header, as the table
 * reader decides), then cuts the data into chunks of about chunkBytes, each boundary moved
 * forward to just after the next newline. Throws a DataValidationError LINE_TOO_LONG when a line
 * around a boundary exceeds maxLineBytes.
 */
export async function planChunks(input: PlanInput, readRange: ReadRange): Promise<ChunkPlan> {
  const { size, chunkBytes, haloBytes } = input;
  if (!Number.isInteger(size) || size < 0) throw new RangeError(`size must be a non-negative integer, got ${size}`);
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1) throw new RangeError(`chunkBytes must be a positive integer, got ${chunkBytes}`);
  if (!Number.isInteger(haloBytes) || haloBytes < 0) throw new RangeError(`haloBytes must be a non-negative integer, got ${haloBytes}`);
  const maxLineBytes = input.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const windowBytes = Math.max(1, input.windowBytes ?? DEFAULT_WINDOW);
  const concurrency = input.concurrency ?? 8;
  const { newlineFrom, lineStartFrom, readExact } = newlineFinder(readRange, size, maxLineBytes, windowBytes);
  const whole = (format: 'csv' | 'jsonl', gzip: boolean, header: ByteRange | null, start: number): ChunkPlan => ({
    format,
    gzip,
    header,
    chunks: [{ index: 0, start, end: size, halo: { start, end: size } }],
  });

  if (size === 0) return whole('csv', false, null, 0);
  const head = await readExact(0, Math.min(size, windowBytes));
  if (head[0] === 0x1f && head[1] === 0x8b) return whole(gzipFormat(head), true, null, 0);

  // The header: the first non-blank line (a BOM is blank to trim()).
  let format: 'csv' | 'jsonl' | undefined;
  let dataStart = 0;
  for (let p = 0; p < size; ) {
    const nl = await newlineFrom(p);
    const line = await readExact(p, nl);
    const next = Math.min(size, nl + 1);
    if (!isBlank(line)) {
      const text = Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString('utf8');
      format = startsJson(text) ? 'jsonl' : 'csv';
      dataStart = format === 'csv' ? next : 0;
      break;
    }
    p = next;
  }
  // Blank lines only: one chunk, the file reads as empty.
  if (format === undefined) return whole('csv', false, null, 0);
  const header = format === 'csv' ? { start: 0, end: dataStart } : null;

  const nominal: number[] = [];
  for (let x = dataStart + chunkBytes; x < size; x += chunkBytes) nominal.push(x);
  const moved = await mapLimit(nominal, concurrency, lineStartFrom);
  const bounds = [dataStart];
  for (const b of moved) if (b > bounds[bounds.length - 1] && b < size) bounds.push(b);
  bounds.push(size);

  const ranges = bounds.slice(0, -1).map((start, i) => ({ start, end: bounds[i + 1] }));
  const halos = await mapLimit(ranges, concurrency, async ({ start, end }) => {
    if (haloBytes === 0) return { start, end };
    const hs = start - haloBytes <= dataStart ? dataStart : await lineStartFrom(start - haloBytes);
    const he = end + haloBytes >= size ? size : await lineStartFrom(end + haloBytes);
    return { start: Math.max(dataStart, Math.min(hs, start)), end: Math.max(he, end) };
  });
  return { format, gzip: false, header, chunks: ranges.map((r, index) => ({ index, start: r.start, end: r.end, halo: halos[index] })) };
}

/** Bytes [start, end) in pieces of at most pieceBytes, the next piece read while the current one is consumed. */
async function* rangePieces(read: ReadRange, start: number, end: number, pieceBytes: number): AsyncGenerator<Uint8Array> {
  const fetch = (p: number) => {
    const r = read(p, Math.min(end, p + pieceBytes));
    r.catch(() => undefined); // awaited below; not unhandled when the consumer stops early
    return r;
  };
  let next = start < end ? fetch(start) : undefined;
  for (let p = start; p < end; p += pieceBytes) {
    const current = next as Promise<Uint8Array>;
    next = p + pieceBytes < end ? fetch(p + pieceBytes) : undefined;
    yield await current;
  }
}

export interface ChunkSourceOptions {
  /** Largest piece read at once. */
  pieceBytes?: number;
}

/**
 * A chunk as a source: the header bytes (CSV) followed by the chunk's own bytes or its halo,
 * streamed by ranges of at most pieceBytes (memory stays bounded whatever the chunk size).
 * Only the plan's header is used, so a plan rebuilt from { format, header } works.
 */
export function chunkSource(readRange: ReadRange, plan: Pick<ChunkPlan, 'header'>, chunk: PlannedChunk, which: 'own' | 'halo', options: ChunkSourceOptions = {}): ByteSource {
  const pieceBytes = Math.max(1, options.pieceBytes ?? DEFAULT_PIECE);
  const range = which === 'own' ? chunk : chunk.halo;
  return (async function* () {
    if (plan.header) yield* rangePieces(readRange, plan.header.start, plan.header.end, pieceBytes);
    yield* rangePieces(readRange, range.start, range.end, pieceBytes);
  })();
}

async function countLines(readRange: ReadRange, start: number, end: number, pieceBytes: number): Promise<{ newlines: number; last: number }> {
  let newlines = 0;
  let last = NL;
  for await (const b of rangePieces(readRange, start, end, pieceBytes)) {
    for (let p = b.indexOf(NL); p !== -1; p = b.indexOf(NL, p + 1)) newlines++;
    if (b.length > 0) last = b[b.length - 1];
  }
  return { newlines, last };
}

/**
 * Where the chunk's own lines are in its halo source (chunkSource(..., 'halo')): the own bytes
 * are exactly lines from..to-1 of that source (1-based; the CSV header is line 1). `from` comes
 * from counting the newlines of the header and of the halo before the chunk; `to` from the
 * number of the chunk's own lines, counted by reading them unless given (a validation partial of
 * the chunk's own source knows it: counts.lines - headerLines).
 */
export async function haloOwnLines(readRange: ReadRange, plan: Pick<ChunkPlan, 'header'>, chunk: PlannedChunk, ownLineCount?: number, options: ChunkSourceOptions = {}): Promise<{ from: number; to: number }> {
  const pieceBytes = Math.max(1, options.pieceBytes ?? DEFAULT_PIECE);
  const header = plan.header ? (await countLines(readRange, plan.header.start, plan.header.end, pieceBytes)).newlines : 0;
  const before = (await countLines(readRange, chunk.halo.start, chunk.start, pieceBytes)).newlines;
  const from = header + before + 1;
  if (ownLineCount !== undefined) return { from, to: from + ownLineCount };
  const own = await countLines(readRange, chunk.start, chunk.end, pieceBytes);
  return { from, to: from + own.newlines + (chunk.end > chunk.start && own.last !== NL ? 1 : 0) };
}
