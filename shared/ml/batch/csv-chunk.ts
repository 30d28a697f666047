/**
 * Whole lines of a delimited file, parsed straight from bytes into a row-major Float64Array: no string
 * per line or per cell on the common path (unquoted fields, plain decimals), which is where reading a
 * large CSV spends its time. A line with a quote, or a number the fast path cannot convert exactly,
 * falls back to the general parsers, so the values are always those of `Number(cell)`.
 */
import { splitCsvLine } from '../../data/table-reader.js';

/** How the file's lines are cut: the delimiter, the header's field count, and the columns to parse. */
export interface CsvLayout {
  delimiter: ',' | ';';
  /** Fields per line (the header's). */
  width: number;
  /** The file's columns parsed into the matrix, in matrix order. */
  columns: readonly number[];
}

export interface CsvChunk {
  rows: number;
  /** rows x layout.columns.length, row-major; NaN where a cell is empty or not a number. */
  data: Float64Array;
  /** Byte offset of each row's line in the buffer. */
  start: Int32Array;
  /** Byte range of each row's first field (its timestamp) in the buffer. */
  stampStart: Int32Array;
  stampEnd: Int32Array;
  /** Rows whose line has a quote: their timestamp, unquoted (the byte range is unused). */
  quotedStamps: Map<number, string>;
  /** Each row's line, counted from 0 at the buffer's start (blank lines are counted, not rows). */
  line: Int32Array;
  /** Lines in the buffer, blank ones included. */
  lines: number;
}

/** The per-row arrays of a chunk: kept by a caller that parses chunk after chunk, so each parse need not allocate them. */
export type RowArrays = Pick<CsvChunk, 'data' | 'start' | 'stampStart' | 'stampEnd' | 'line'>;

/** Row arrays for `rows` rows of `p` values. */
export function rowArrays(rows: number, p: number): RowArrays {
  return { data: new Float64Array(rows * p), start: new Int32Array(rows), stampStart: new Int32Array(rows), stampEnd: new Int32Array(rows), line: new Int32Array(rows) };
}

/** A line whose field count differs from the header's. */
export class CsvShapeError extends Error {
  override readonly name = 'CsvShapeError';
  constructor(
    /** Line within the parsed buffer, from 0. */
    readonly line: number,
    readonly fields: number,
    readonly width: number,
  ) {
    super(`line has ${fields} fields, the header has ${width}`);
  }
}

const NL = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
// Every power of ten up to 1e22 is exact in a double, so m * 10^e and m / 10^e round once, as Number() does.
const POW10 = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
const decoder = new TextDecoder();

const text = (buf: Uint8Array, start: number, end: number): string => decoder.decode(buf.subarray(start, end));

/** A cell as the CLI has always read it: blank is NaN, otherwise Number(cell). */
export const cellNumber = (cell: string): number => (cell.trim() === '' ? Number.NaN : Number(cell));

/** Where the field parseField last read ends (its delimiter, or the line's end). */
let fieldEnd = 0;

/**
 * The number in the field that starts at `start` and ends at the next `delimiter` (or `end`), read in
 * one pass; fieldEnd is left at the field's end. Plain decimals of up to 15 digits with a small
 * exponent are exact as an integer mantissa scaled once by a power of ten (every power of ten to
 * 1e22 is exact), as Number() rounds them; anything else goes through Number().
 */
function parseField(buf: Uint8Array, start: number, end: number, delimiter: number): number {
  let i = start;
  const negative = buf[i] === MINUS;
  if (negative || buf[i] === PLUS) i++;
  let mantissa = 0;
  let digits = 0;
  let scale = 0;
  for (; i < end; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) break;
    mantissa = mantissa * 10 + d;
    digits++;
  }
  if (i < end && buf[i] === DOT) {
    for (i++; i < end; i++) {
      const d = buf[i] - 48;
      if (d < 0 || d > 9) break;
      mantissa = mantissa * 10 + d;
      digits++;
      scale++;
    }
  }
  let exponent = 0;
  let plain = digits > 0 && digits <= 15;
  if (plain && i < end && (buf[i] | 0x20) === 0x65) {
    i++;
    const negativeExponent = buf[i] === MINUS;
    if (negativeExponent || buf[i] === PLUS) i++;
    const from = i;
    for (; i < end && buf[i] >= 48 && buf[i] <= 57 && i - from < 4; i++) exponent = exponent * 10 + buf[i] - 48;
    if (i === from) plain = false;
    if (negativeExponent) exponent = -exponent;
  }
  const e = exponent - scale;
  if (plain && (i === end || buf[i] === delimiter) && e >= -22 && e <= 22) {
    fieldEnd = i;
    const v = e >= 0 ? mantissa * POW10[e] : mantissa / POW10[-e];
    return negative ? -v : v;
  }
  let stop = buf.indexOf(delimiter, i);
  if (stop === -1 || stop > end) stop = end;
  fieldEnd = stop;
  return cellNumber(text(buf, start, stop));
}

/** The number in bytes start..end, exactly as Number() reads it (blank is NaN). */
export function parseNumber(buf: Uint8Array, start: number, end: number): number {
  // 256 is no byte: the field runs to `end`.
  return start === end ? Number.NaN : parseField(buf, start, end, 256);
}

function isBlank(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x09 && c !== CR) return false;
  }
  return true;
}

/** `a` copied into a longer array of its kind. */
function grown<T extends Float64Array | Int32Array>(a: T, length: number): T {
  const b = (a instanceof Float64Array ? new Float64Array(length) : new Int32Array(length)) as T;
  b.set(a);
  return b;
}

/**
 * Parses whole lines (the buffer ends at a line break, or at the end of the file). Throws
 * CsvShapeError for a line with the wrong number of fields; blank lines are skipped. With `reuse`,
 * the chunk's arrays are those (grown if need be, and left there for the next call): the chunk is
 * then valid until the next parse into them.
 */
export function parseCsvChunk(buf: Uint8Array, layout: CsvLayout, reuse?: RowArrays): CsvChunk {
  const p = layout.columns.length;
  const slot = new Int32Array(layout.width).fill(-1);
  layout.columns.forEach((c, j) => (slot[c] = j));
  const delimiter = layout.delimiter.charCodeAt(0);
  const width = layout.width;
  // Rows guessed from the first line's length (no pass to count them), the arrays grown if more come.
  const firstLine = buf.indexOf(NL) + 1 || buf.length;
  const guess = Math.ceil((1.25 * buf.length) / Math.max(firstLine, 2 * layout.width)) + 8;
  const arrays = reuse && reuse.start.length >= guess && reuse.data.length === reuse.start.length * p ? reuse : rowArrays(guess, p);
  let capacity = arrays.start.length;
  let { data, stampStart, stampEnd, line: lineOf, start: lineStart } = arrays;
  const quotedStamps = new Map<number, string>();
  let rows = 0;
  let line = 0;
  // The next quote at or after the current line: found once per quote, not once per line.
  let quote = buf.indexOf(QUOTE);
  for (let start = 0; start < buf.length; line++) {
    let next = buf.indexOf(NL, start);
    if (next === -1) next = buf.length;
    const end = next > start && buf[next - 1] === CR ? next - 1 : next;
    if (!isBlank(buf, start, end)) {
      if (rows === capacity) {
        capacity *= 2;
        data = grown(data, capacity * p);
        stampStart = grown(stampStart, capacity);
        stampEnd = grown(stampEnd, capacity);
        lineOf = grown(lineOf, capacity);
        lineStart = grown(lineStart, capacity);
      }
      const o = rows * p;
      if (quote !== -1 && quote < start) quote = buf.indexOf(QUOTE, start);
      const quoted = quote !== -1 && quote < end;
      let field = 0;
      for (let from = start; !quoted; field++) {
        let to: number;
        const j = field < width ? slot[field] : -1;
        if (j >= 0) {
          // The common cell, inline: [-]digits[.digits] of at most 9 digits (an exact int32 mantissa,
          // one division by an exact power of ten, as Number() rounds), then the delimiter or the line's end.
          let i = from;
          const negative = buf[i] === MINUS;
          if (negative) i++;
          let mantissa = 0;
          let c = buf[i] - 48;
          for (; i < end && c >= 0 && c <= 9; c = buf[++i] - 48) mantissa = (mantissa * 10 + c) | 0;
          let digits = i - from - (negative ? 1 : 0);
          let scale = 0;
          if (i < end && c === DOT - 48) {
            const dot = i;
            for (c = buf[++i] - 48; i < end && c >= 0 && c <= 9; c = buf[++i] - 48) mantissa = (mantissa * 10 + c) | 0;
            scale = i - dot - 1;
            digits += scale;
          }
          if (digits > 0 && digits <= 9 && (i === end || buf[i] === delimiter)) {
            const v = mantissa / POW10[scale];
            data[o + j] = negative ? -v : v;
            to = i;
          } else {
            data[o + j] = from === end || buf[from] === delimiter ? Number.NaN : parseField(buf, from, end, delimiter);
            to = from === end || buf[from] === delimiter ? from : fieldEnd;
          }
        } else {
          to = buf.indexOf(delimiter, from);
          if (to === -1 || to > end) to = end;
        }
        if (field === 0) {
          stampStart[rows] = from;
          stampEnd[rows] = to;
        }
        if (to >= end) {
          field++;
          break;
        }
        from = to + 1;
      }
      if (quoted) {
        // Quotes may hide delimiters: the general splitter takes the line.
        const cells = splitCsvLine(text(buf, start, end), layout.delimiter);
        if (cells.length !== layout.width) throw new CsvShapeError(line, cells.length, layout.width);
        for (let j = 0; j < p; j++) data[o + j] = cellNumber(cells[layout.columns[j]]);
        quotedStamps.set(rows, cells[0]);
      } else if (field !== layout.width) throw new CsvShapeError(line, field, layout.width);
      lineOf[rows] = line;
      lineStart[rows] = start;
      rows++;
    }
    start = next + 1;
  }
  if (reuse) Object.assign(reuse, { data, stampStart, stampEnd, line: lineOf, start: lineStart });
  return { rows, data: data.subarray(0, rows * p), start: lineStart, stampStart, stampEnd, quotedStamps, line: lineOf, lines: line };
}

/** The text of one cell, for an error message (the slow way: it happens once). */
export function cellText(buf: Uint8Array, chunk: CsvChunk, row: number, column: number, delimiter: ',' | ';'): string {
  const start = chunk.start[row];
  let end = buf.indexOf(NL, start);
  if (end === -1) end = buf.length;
  if (end > start && buf[end - 1] === CR) end--;
  return splitCsvLine(text(buf, start, end), delimiter)[column] ?? '';
}

/** The byte offset where the last `n` non-blank lines of the buffer start (0 if it has fewer). */
export function lastLinesStart(buf: Uint8Array, n: number): number {
  if (n <= 0) return buf.length;
  let end = buf.length;
  if (end > 0 && buf[end - 1] === NL) end--;
  let found = 0;
  while (end > 0) {
    const nl = buf.lastIndexOf(NL, end - 1);
    const start = nl + 1;
    if (!isBlank(buf, start, end)) found++;
    if (found === n) return start;
    if (nl === -1) break;
    end = nl;
  }
  return 0;
}

/** The last `keep` non-blank lines of what came before and `body`, copied: the context of the chunk after `body`. */
export function nextContext(previous: Uint8Array, body: Uint8Array, keep: number): Uint8Array {
  if (keep <= 0) return new Uint8Array(0);
  const start = lastLinesStart(body, keep);
  // Copies (a Buffer's slice would share the body's memory, which moves to a worker).
  if (start > 0) return new Uint8Array(body.subarray(start));
  const joined = new Uint8Array(previous.length + body.length);
  joined.set(previous);
  joined.set(body, previous.length);
  return new Uint8Array(joined.subarray(lastLinesStart(joined, keep)));
}
