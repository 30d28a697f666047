/**
 * Bytes to lines, one batch per chunk, in bounded memory: only the unfinished last line is
 * carried between chunks, and a line longer than maxLineBytes is a fatal issue (a 2 GB line
 * stops at the cap, it does not exhaust memory). Checks the encoding as it goes: UTF-8 only,
 * BOM stripped, NUL bytes and invalid sequences reported with their line.
 */
import { isUtf8 } from 'node:buffer';
import { decodedBytes, type ByteSource } from './byte-source.js';
import { DataValidationError } from './errors.js';

export const DEFAULT_MAX_LINE_BYTES = 1 << 20;

/** Complete lines as bytes (UTF-8, checked), without the final line break. */
export interface LineBatch {
  /** 1-based line number of the first line. */
  firstLine: number;
  /** Number of lines in buf. */
  count: number;
  buf: Buffer;
}

/** The batch's lines as strings, without their CR. */
export function lineStrings(batch: LineBatch): string[] {
  const lines = batch.buf.toString('utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.charCodeAt(l.length - 1) === 13) lines[i] = l.slice(0, -1);
  }
  return lines;
}

export interface LineReaderOptions {
  maxLineBytes?: number;
}

function countNewlines(buf: Buffer, end: number): number {
  let n = 0;
  let p = buf.indexOf(0x0a);
  while (p !== -1 && p < end) {
    n++;
    p = buf.indexOf(0x0a, p + 1);
  }
  return n;
}

function encodingProblem(body: Buffer, firstLine: number): DataValidationError {
  const nul = body.indexOf(0);
  let controls = 0;
  const probe = Math.min(body.length, 4096);
  for (let i = 0; i < probe; i++) {
    const c = body[i];
    if (c < 9 || (c > 13 && c < 32) || c === 127) controls++;
  }
  if (nul !== -1 || controls > probe / 100) {
    const at = nul !== -1 ? nul : 0;
    return DataValidationError.of('BINARY_CONTENT', 'The file holds binary data, not text: expected UTF-8 CSV or JSON Lines (a gzip file must start with the gzip header).', {
      line: firstLine + countNewlines(body, at),
    });
  }
  let start = 0;
  let line = firstLine;
  for (;;) {
    const nl = body.indexOf(0x0a, start);
    const end = nl === -1 ? body.length : nl;
    if (!isUtf8(body.subarray(start, end))) break;
    if (nl === -1) break;
    start = nl + 1;
    line++;
  }
  return DataValidationError.of('INVALID_ENCODING', 'The text is not valid UTF-8 (it looks like Latin-1 or Windows-1252): save the file as UTF-8.', { line });
}

function decode(body: Buffer, firstLine: number, maxLineBytes: number): LineBatch {
  if (body.indexOf(0) !== -1 || !isUtf8(body)) throw encodingProblem(body, firstLine);
  let count = 1;
  let start = 0;
  for (let nl = body.indexOf(0x0a); nl !== -1; nl = body.indexOf(0x0a, nl + 1)) {
    if (nl - start > maxLineBytes) throw tooLong(firstLine + count - 1, maxLineBytes);
    start = nl + 1;
    count++;
  }
  if (body.length - start > maxLineBytes) throw tooLong(firstLine + count - 1, maxLineBytes);
  return { firstLine, count, buf: body };
}

const tooLong = (line: number, max: number) =>
  DataValidationError.of('LINE_TOO_LONG', `Line ${line} is longer than ${max} bytes: the file is not line-oriented data (or a quoted field is never closed).`, { line });

export async function* readLineBatches(source: ByteSource, options: LineReaderOptions = {}): AsyncGenerator<LineBatch> {
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  let carry: Buffer | null = null;
  let line = 1;
  let first = true;
  for await (let chunk of decodedBytes(source)) {
    if (first) {
      first = false;
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
      else if ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff))
        throw DataValidationError.of('UNSUPPORTED_ENCODING', 'The file is UTF-16: save it as UTF-8.', { line: 1 });
    }
    if (carry) {
      // Finish the carried line with the head of this chunk, without copying the whole chunk.
      const nl = chunk.indexOf(0x0a);
      if (nl === -1) {
        carry = Buffer.concat([carry, chunk]);
        if (carry.length > maxLineBytes) throw tooLong(line, maxLineBytes);
        continue;
      }
      const head = decode(Buffer.concat([carry, chunk.subarray(0, nl)]), line, maxLineBytes);
      line += head.count;
      carry = null;
      yield head;
      chunk = chunk.subarray(nl + 1);
      if (chunk.length === 0) continue;
    }
    const buf: Buffer = chunk;
    const lastNl = buf.lastIndexOf(0x0a);
    if (lastNl === -1) {
      if (buf.length > maxLineBytes) throw tooLong(line, maxLineBytes);
      carry = buf;
      continue;
    }
    const batch = decode(buf.subarray(0, lastNl), line, maxLineBytes);
    line += batch.count;
    carry = lastNl + 1 < buf.length ? Buffer.from(buf.subarray(lastNl + 1)) : null;
    if (carry && carry.length > maxLineBytes) throw tooLong(line, maxLineBytes);
    yield batch;
  }
  if (carry && carry.length > 0) yield decode(carry, line, maxLineBytes);
}
