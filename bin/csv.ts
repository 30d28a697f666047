import { readFileSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { splitCsvLine } from '../shared/data/table-reader.js';
import { csvField } from '../shared/data/csv-field.js';
import { cellNumber } from '../shared/ml/batch/csv-chunk.js';
import type { Matrix } from '../shared/ml/multivariate/index.js';
import { CliError, usageError } from './errors.js';

export interface CsvFile {
  path: string;
  delimiter: ',' | ';';
  header: string[];
  /** Data rows, each as long as the header. */
  rows: string[][];
}

/** Reads a whole CSV: `,` or `;` (whichever splits the header into more fields), quotes as RFC 4180; ragged rows are refused. */
export function readCsv(path: string): CsvFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length === 0) throw new CliError(`${path} is empty`);
  const delimiter = splitCsvLine(lines[0], ';').length > splitCsvLine(lines[0], ',').length ? ';' : ',';
  const header = splitCsvLine(lines[0], delimiter).map((h) => h.trim());
  if (header.length < 2) throw new CliError(`${path} needs a timestamp column and at least one feature column (delimiter , or ;)`);
  const rows: string[][] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const cells = splitCsvLine(lines[i], delimiter);
    if (cells.length !== header.length) throw new CliError(`${path} line ${i + 1} has ${cells.length} fields, the header has ${header.length}`);
    rows.push(cells);
  }
  if (rows.length === 0) throw new CliError(`${path} has a header but no data rows`);
  return { path, delimiter, header, rows };
}

/** The index of a named column, or a usage error listing the columns there are. */
export function columnIndex(csv: Pick<CsvFile, 'path' | 'header'>, name: string): number {
  const index = csv.header.indexOf(name);
  if (index < 0) throw usageError(`${csv.path} has no column "${name}" (columns: ${csv.header.join(', ')})`);
  return index;
}

export interface FeatureSelection {
  /** Use exactly these columns (each must be numeric). */
  features?: string[];
  /** Drop these columns (e.g. labels) from the automatic selection. */
  ignore?: string[];
}

export interface FeatureTable {
  timestamps: string[];
  featureNames: string[];
  matrix: Matrix;
}

/** A cell of a column that is not a number: its data row (from 0) and text. */
export interface NonNumber {
  row: number;
  text: string;
}

/**
 * The feature columns: the named ones, or else every column but the timestamp (the first) and the
 * ignored ones whose cells are all numbers (a column that is not is reported, never silently used or dropped).
 */
export function featureColumns(csv: Pick<CsvFile, 'path' | 'header'>, selection: FeatureSelection, firstNonNumber: (column: number) => NonNumber | undefined, warn: (message: string) => void): number[] {
  const ignore = new Set(selection.ignore ?? []);
  for (const name of ignore) columnIndex(csv, name);
  if (selection.features) return selection.features.map((name) => columnIndex(csv, name));
  const columns: number[] = [];
  for (let c = 1; c < csv.header.length; c++) {
    if (ignore.has(csv.header[c])) continue;
    const bad = firstNonNumber(c);
    if (!bad) columns.push(c);
    else warn(`ignoring column "${csv.header[c]}": row ${bad.row + 1} is "${bad.text}", not a number (name it with --features to use it)`);
  }
  if (columns.length === 0) throw new CliError(`${csv.path} has no numeric feature columns (columns: ${csv.header.join(', ')})`);
  return columns;
}

export const notANumber = (path: string, row: number, column: string, text: string) => new CliError(`${path} row ${row + 1}, column "${column}": "${text}" is not a number`);

/** The first column is the timestamp; features as featureColumns chooses them, every cell a number. */
export function featureTable(csv: CsvFile, selection: FeatureSelection = {}, warn: (message: string) => void = () => undefined): FeatureTable {
  const columns = featureColumns(
    csv,
    selection,
    (c) => {
      const row = csv.rows.findIndex((cells) => !Number.isFinite(cellNumber(cells[c])));
      return row < 0 ? undefined : { row, text: csv.rows[row][c] };
    },
    warn,
  );
  const p = columns.length;
  const data = new Float64Array(csv.rows.length * p);
  csv.rows.forEach((row, r) => {
    columns.forEach((c, j) => {
      const v = cellNumber(row[c]);
      if (!Number.isFinite(v)) throw notANumber(csv.path, r, csv.header[c], row[c]);
      data[r * p + j] = v;
    });
  });
  return { timestamps: csv.rows.map((row) => row[0]), featureNames: columns.map((c) => csv.header[c]), matrix: { rows: csv.rows.length, cols: p, data } };
}

/** Writes rows of cells as a `,`-separated CSV with a header. */
export function writeCsv(path: string, header: readonly string[], rows: Iterable<readonly string[]>): void {
  const lines = [header.join(',')];
  for (const row of rows) lines.push(row.map((cell) => csvField(cell)).join(','));
  try {
    writeFileSync(path, `${lines.join('\n')}\n`);
  } catch (error) {
    throw new CliError(`cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** The header of a CSV read in a stream: its delimiter and names, and where the data lines start. */
export interface CsvHead {
  path: string;
  delimiter: ',' | ';';
  header: string[];
  /** Byte offset of the first data line. */
  bodyOffset: number;
}

const BLOCK_BYTES = 1 << 18;
const CARRY_ROOM = 1 << 12;

/**
 * Read buffers given back once their block is scored, for the next reads: without them each
 * isolate would hold tens of MB of dead blocks between collections (external memory only
 * triggers a collection after tens of MB).
 */
export class ReadBuffers {
  private readonly free: ArrayBuffer[] = [];

  take(): Buffer {
    const memory = this.free.pop();
    return memory ? Buffer.from(memory) : Buffer.allocUnsafeSlow(CARRY_ROOM + BLOCK_BYTES);
  }

  /** The memory of a block no one reads any more (a block of another size is left to the collector). */
  give(block: Uint8Array): void {
    if (block.buffer.byteLength === CARRY_ROOM + BLOCK_BYTES && this.free.length < MAX_FREE_READ_BUFFERS && block.buffer instanceof ArrayBuffer) this.free.push(block.buffer);
  }
}

const MAX_FREE_READ_BUFFERS = 16;

/** `read` (which starts CARRY_ROOM bytes into its buffer) with `carry` copied in front of it, in the same buffer. */
function withCarry(read: Buffer, carry: Buffer): Buffer {
  const whole = Buffer.from(read.buffer, read.byteOffset - carry.length, carry.length + read.length);
  carry.copy(whole);
  return whole;
}

async function openFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Reads the header line (after a BOM) as readCsv does: `,` or `;`, whichever splits it into more fields. */
export async function readCsvHead(path: string): Promise<CsvHead> {
  for await (const block of csvBlocks(path, 0)) {
    const bytes = block.bytes;
    const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    let nl = bytes.indexOf(0x0a, bom);
    if (nl === -1) nl = bytes.length;
    const line = bytes.toString('utf8', bom, nl).replace(/\r$/, '');
    const delimiter = splitCsvLine(line, ';').length > splitCsvLine(line, ',').length ? ';' : ',';
    const header = splitCsvLine(line, delimiter).map((h) => h.trim());
    if (header.length < 2) throw new CliError(`${path} needs a timestamp column and at least one feature column (delimiter , or ;)`);
    return { path, delimiter, header, bodyOffset: Math.min(nl + 1, bytes.length) };
  }
  throw new CliError(`${path} is empty`);
}

/** The parts joined in a buffer with its own memory (never a slice of Node's shared pool: it may be moved to a worker). */
function ownBuffer(...parts: Buffer[]): Buffer {
  const out = Buffer.allocUnsafeSlow(parts.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of parts) at += b.copy(out, at);
  return out;
}

/**
 * Whole lines of the file from byte `from`, about 256 KiB at a time (a block in flight costs a few
 * times its size), each block in a buffer of its own (it can be moved to a worker). The next read is
 * under way while the caller handles a block, so the caller never waits on the disk between blocks.
 */
export async function* csvBlocks(path: string, from: number, buffers = new ReadBuffers()): AsyncGenerator<{ bytes: Buffer; offset: number }> {
  const file = await openFile(path);
  // Each read lands after room for the line the block before leaves unfinished, which is then
  // copied in front of it (a longer one is joined by a copy of both).
  const readAt = async (position: number) => {
    const buffer = buffers.take();
    const { bytesRead } = await file.read(buffer, CARRY_ROOM, BLOCK_BYTES, position);
    return buffer.subarray(CARRY_ROOM, CARRY_ROOM + bytesRead);
  };
  let next = readAt(from);
  try {
    let carry = Buffer.alloc(0);
    let position = from;
    for (;;) {
      const read = await next;
      position += read.length;
      if (read.length > 0) next = readAt(position);
      const filled = carry.length + read.length;
      const offset = position - filled;
      if (read.length === 0) {
        if (filled > 0) yield { bytes: ownBuffer(carry), offset };
        return;
      }
      const block = carry.length === 0 ? read : carry.length <= CARRY_ROOM ? withCarry(read, carry) : ownBuffer(carry, read);
      const end = block.lastIndexOf(0x0a, filled - 1) + 1;
      carry = Buffer.from(block.subarray(end, filled));
      if (end > 0) yield { bytes: block.subarray(0, end), offset };
    }
  } finally {
    // A read still under way must end before the file closes.
    await next.catch(() => undefined);
    await file.close();
  }
}
