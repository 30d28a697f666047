/**
 * Lines to typed rows. Opening a table reads the header and a sample (to detect the delimiter
 * and infer the schema when none is declared), then rows come in column-oriented batches:
 * Float64Arrays of epoch ms and of each sensor's values, NaN where a cell is missing or invalid,
 * with a status per cell. Batches are reused: one is valid until the next is requested.
 */
import { CELL_INVALID, CELL_MISSING, CELL_OK, cellText, EXACT_POW10, lastCellStatus, numberFromBytes, numberFromCell } from './cells.js';
import { DatasetSchema, inferSchema, type Delimiter } from './dataset-schema.js';
import type { ByteSource } from './byte-source.js';
import { DataValidationError, type FatalIssue } from './errors.js';
import { lineStrings, readLineBatches, type LineBatch } from './line-reader.js';
import { isoFieldEnd, lastTimestampKind, parseIsoField, parseTimestampBytes, TIMESTAMP_INVALID, timestampFromCell } from './timestamp.js';

/** timeKind of a row whose timestamp cell is empty (the other kinds are TimestampKind). */
export const TIME_MISSING = 4;

export type InvalidCellKind = 'timestamp' | 'value' | 'label' | 'json' | 'ragged';

export interface TableOptions {
  /** The declared schema; inferred from the sample when absent. */
  schema?: DatasetSchema;
  maxLineBytes?: number;
  /** Rows read ahead to detect the delimiter and infer the schema. */
  sampleRows?: number;
  maxColumns?: number;
  /** Called for each cell that cannot be read (not for missing cells), with its 1-based line. */
  onInvalidCell?: (line: number, kind: InvalidCellKind, column: string | undefined, text: string) => void;
}

export interface TableLayout {
  format: 'csv' | 'jsonl';
  delimiter?: Delimiter;
  header: string[];
  headerLine: number;
  schema: DatasetSchema;
  schemaSource: 'declared' | 'inferred';
  ignoredColumns: string[];
}

export interface RowBatch {
  count: number;
  /** 1-based line of each row. */
  line: Float64Array;
  /** Epoch ms, NaN when missing or unparseable. */
  time: Float64Array;
  /** TimestampKind, or TIME_MISSING. */
  timeKind: Uint8Array;
  /** One array per schema sensor column, NaN where missing or invalid. */
  values: Float64Array[];
  /** CellStatus per sensor cell. */
  status: Uint8Array[];
  label: Float64Array | null;
  /** 1 when the row's field count differs from the header's (or a JSON line is not an object). */
  ragged: Uint8Array;
}

export interface TableCounts {
  lines: number;
  rows: number;
  blankLines: number;
}

export interface Table {
  layout: TableLayout;
  counts: TableCounts;
  batches(): AsyncGenerator<RowBatch>;
}

const FORMULA_START = new Set(['=', '+', '-', '@', '\t', '\r']);

/** RFC 4180 split of one line that contains quotes. */
export function splitQuoted(line: string, d: string): string[] {
  const out: string[] = [];
  const n = line.length;
  let i = 0;
  for (;;) {
    if (line.charCodeAt(i) === 34) {
      let s = '';
      i++;
      let start = i;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q === -1) {
          s += line.slice(start);
          i = n;
          break;
        }
        if (line.charCodeAt(q + 1) === 34) {
          s += line.slice(start, q + 1);
          i = q + 2;
          start = i;
          continue;
        }
        s += line.slice(start, q);
        i = q + 1;
        break;
      }
      const dp = line.indexOf(d, i);
      if (dp === -1) {
        out.push(s + line.slice(i));
        return out;
      }
      out.push(s + line.slice(i, dp));
      i = dp + 1;
    } else {
      const dp = line.indexOf(d, i);
      if (dp === -1) {
        out.push(line.slice(i));
        return out;
      }
      out.push(line.slice(i, dp));
      i = dp + 1;
    }
  }
}

export function splitCsvLine(line: string, d: string): string[] {
  return line.indexOf('"') === -1 ? line.split(d) : splitQuoted(line, d);
}

function quotesOdd(line: string): boolean {
  let n = 0;
  let p = line.indexOf('"');
  while (p !== -1) {
    n++;
    p = line.indexOf('"', p + 1);
  }
  return (n & 1) === 1;
}

const DELIMITERS: Delimiter[] = [',', ';', '\t'];
const delimiterName = (d: string) => (d === '\t' ? 'tab' : `"${d}"`);

function detectDelimiter(header: string, sample: string[]): Delimiter | undefined {
  let best: Delimiter | undefined;
  let bestScore = -1;
  for (const d of DELIMITERS) {
    const n = splitCsvLine(header, d).length;
    if (n < 2) continue;
    const same = sample.filter((l) => splitCsvLine(l, d).length === n).length;
    const score = (sample.length > 0 ? same / sample.length : 1) * 1000 + Math.min(n, 999);
    if (score > bestScore) {
      bestScore = score;
      best = d;
    }
  }
  return best;
}

function parseJsonLine(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Reads the header and a sample, checks the columns, and returns the table ready to stream rows. */
export async function openTable(source: ByteSource, options: TableOptions = {}): Promise<Table> {
  const sampleRows = options.sampleRows ?? 200;
  const maxColumns = options.maxColumns ?? 2000;
  const it = readLineBatches(source, { maxLineBytes: options.maxLineBytes })[Symbol.asyncIterator]();
  const buffered: LineBatch[] = [];
  let headerText: string | undefined;
  let headerLine = 0;
  const sample: { line: number; text: string }[] = [];
  let exhausted = false;
  try {
    while (sample.length < sampleRows) {
      const r = await it.next();
      if (r.done) {
        exhausted = true;
        break;
      }
      buffered.push(r.value);
      lineStrings(r.value).forEach((text, i) => {
        if (text.trim().length === 0) return;
        if (headerText === undefined) {
          headerText = text;
          headerLine = r.value.firstLine + i;
        } else if (sample.length < sampleRows) sample.push({ line: r.value.firstLine + i, text });
      });
    }
  } catch (e) {
    await it.return(undefined);
    throw e;
  }
  const fail = async (issues: FatalIssue[]): Promise<never> => {
    await it.return(undefined);
    throw new DataValidationError(issues);
  };
  if (headerText === undefined) return fail([{ code: 'EMPTY_FILE', message: 'The file is empty: it has no header and no rows.' }]);

  const declared = options.schema;
  const isJson = declared?.format === 'jsonl' || (declared?.format === undefined && headerText.trimStart().startsWith('{'));
  let header: string[];
  let delimiter: Delimiter | undefined;
  let sampleCells: unknown[][];
  const issues: FatalIssue[] = [];
  const firstData = isJson ? [{ line: headerLine, text: headerText }, ...sample] : sample;

  if (isJson) {
    const keys = new Set<string>();
    sampleCells = [];
    const objects: Record<string, unknown>[] = [];
    for (const { line, text } of firstData) {
      const o = parseJsonLine(text);
      if (o === undefined) {
        if (line === headerLine) return fail([{ code: 'INVALID_JSON', message: `Line ${line} is not a JSON object: JSON Lines needs one object per line.`, line }]);
        continue;
      }
      objects.push(o);
      for (const k of Object.keys(o)) keys.add(k);
    }
    header = [...keys];
    for (const o of objects) sampleCells.push(header.map((h) => o[h]));
  } else {
    delimiter = declared?.delimiter ?? detectDelimiter(headerText, sample.map((s) => s.text));
    const detected = detectDelimiter(headerText, sample.map((s) => s.text));
    if (delimiter === undefined)
      return fail([{ code: 'SINGLE_COLUMN', message: 'The header has a single column: the delimiter is not a comma, semicolon or tab, or the file has one column only (a dataset needs a timestamp and at least one sensor).', line: headerLine }]);
    if (splitCsvLine(headerText, delimiter).length < 2)
      return fail([
        detected !== undefined
          ? { code: 'DELIMITER_MISMATCH', message: `The declared delimiter ${delimiterName(delimiter)} yields one column; the file looks ${delimiterName(detected)}-separated.`, line: headerLine }
          : { code: 'SINGLE_COLUMN', message: `With the delimiter ${delimiterName(delimiter)} the header has a single column.`, line: headerLine },
      ]);
    header = splitCsvLine(headerText, delimiter).map((h, i) => h.trim() || `column_${i + 1}`);
    sampleCells = sample.map((s) => splitCsvLine(s.text, delimiter as string));
  }

  if (header.length > maxColumns) return fail([{ code: 'TOO_MANY_COLUMNS', message: `The file has ${header.length} columns; at most ${maxColumns} are accepted.`, line: headerLine }]);
  const seen = new Set<string>();
  for (const name of header) {
    if (FORMULA_START.has(name[0]))
      issues.push({ code: 'FORMULA_COLUMN_NAME', message: `Column name ${JSON.stringify(name.slice(0, 60))} starts with a formula character (= + - @): rename it; it would run as a formula when the data is opened in a spreadsheet.`, line: headerLine, column: name.slice(0, 256) });
    if (seen.has(name)) issues.push({ code: 'DUPLICATE_COLUMN', message: `Column ${JSON.stringify(name.slice(0, 60))} appears more than once in the header.`, line: headerLine, column: name.slice(0, 256) });
    seen.add(name);
  }
  if (sample.length === 0 && !isJson) issues.push({ code: 'HEADER_ONLY', message: 'The file has a header but no data rows.', line: headerLine });
  if (issues.length > 0) return fail(issues);

  let schema: DatasetSchema;
  let ignoredColumns: string[];
  if (declared) {
    const wanted = [declared.timestampColumn, ...declared.sensorColumns.map((c) => c.name), ...(declared.labelColumn ? [declared.labelColumn] : [])];
    const missing = wanted.filter((w) => !seen.has(w));
    if (missing.length > 0)
      return fail(missing.map((m) => ({ code: 'MISSING_COLUMN' as const, message: `Declared column ${JSON.stringify(m)} is not in the file (columns: ${header.slice(0, 20).map((h) => JSON.stringify(h)).join(', ')}).`, column: m })));
    schema = declared;
    const used = new Set(wanted);
    ignoredColumns = header.filter((h) => !used.has(h));
  } else {
    const inferred = inferSchema({ header, rows: sampleCells, delimiter, format: isJson ? 'jsonl' : undefined });
    if (inferred.timestampColumn === undefined) issues.push({ code: 'NO_TIMESTAMP_COLUMN', message: 'No column holds timestamps (ISO 8601, "YYYY-MM-DD hh:mm:ss" or epoch under a time-like name): declare the schema or fix the timestamps.' });
    if (inferred.sensorColumns.length === 0) issues.push({ code: 'NO_SENSOR_COLUMNS', message: 'No column holds numeric sensor values.' });
    if (!inferred.schema) return fail(issues);
    schema = inferred.schema;
    ignoredColumns = inferred.ignoredColumns;
  }

  const layout: TableLayout = { format: isJson ? 'jsonl' : 'csv', delimiter, header, headerLine, schema, schemaSource: declared ? 'declared' : 'inferred', ignoredColumns };
  const counts: TableCounts = { lines: 0, rows: 0, blankLines: 0 };
  return { layout, counts, batches: () => rowBatches(layout, counts, buffered, exhausted ? undefined : it, options) };
}

async function* rowBatches(layout: TableLayout, counts: TableCounts, buffered: LineBatch[], rest: AsyncIterator<LineBatch> | undefined, options: TableOptions): AsyncGenerator<RowBatch> {
  const { header, schema, format, headerLine } = layout;
  const d = layout.delimiter ?? ',';
  const ncols = header.length;
  const index = new Map(header.map((h, i) => [h, i]));
  const tsIdx = index.get(schema.timestampColumn) as number;
  const sensorIdx = schema.sensorColumns.map((c) => index.get(c.name) as number);
  const sensorNames = schema.sensorColumns.map((c) => c.name);
  const labelIdx = schema.labelColumn !== undefined ? (index.get(schema.labelColumn) as number) : -1;
  const nsens = sensorIdx.length;
  const onInvalid = options.onInvalidCell;
  const maxLine = options.maxLineBytes ?? 1 << 20;

  let cap = 0;
  let b: RowBatch = newBatch(0);
  function newBatch(n: number): RowBatch {
    cap = n;
    return {
      count: 0,
      line: new Float64Array(n),
      time: new Float64Array(n),
      timeKind: new Uint8Array(n),
      values: sensorIdx.map(() => new Float64Array(n)),
      status: sensorIdx.map(() => new Uint8Array(n)),
      label: labelIdx >= 0 ? new Float64Array(n) : null,
      ragged: new Uint8Array(n),
    };
  }

  const fill = (k: number, cells: readonly unknown[], line: number, ragged: boolean) => {
    b.line[k] = line;
    b.ragged[k] = ragged ? 1 : 0;
    const tc = cells[tsIdx];
    if (tc === undefined || tc === '' || tc === null) {
      b.time[k] = Number.NaN;
      b.timeKind[k] = TIME_MISSING;
    } else {
      b.time[k] = timestampFromCell(tc);
      const kind = lastTimestampKind();
      b.timeKind[k] = kind;
      if (kind === TIMESTAMP_INVALID && onInvalid) onInvalid(line, 'timestamp', schema.timestampColumn, cellText(tc));
    }
    for (let j = 0; j < nsens; j++) {
      const c = cells[sensorIdx[j]];
      b.values[j][k] = numberFromCell(c);
      const st = lastCellStatus();
      b.status[j][k] = st;
      if (st === CELL_INVALID && onInvalid) onInvalid(line, 'value', sensorNames[j], cellText(c));
    }
    if (b.label) {
      const c = cells[labelIdx];
      const v = numberFromCell(c);
      const st = lastCellStatus();
      b.label[k] = v;
      if (st === CELL_INVALID && onInvalid) onInvalid(line, 'label', schema.labelColumn, cellText(c));
      else if (st === CELL_MISSING) b.label[k] = Number.NaN;
    }
  };

  // Column roles for the unquoted CSV fast path: -1 ignored, -2 timestamp, -3 label, j >= 0 sensor j.
  const role = new Int32Array(ncols).fill(-1);
  role[tsIdx] = -2;
  sensorIdx.forEach((c, j) => (role[c] = j));
  if (labelIdx >= 0) role[labelIdx] = -3;
  const setMissing = (k: number, r: number) => {
    if (r >= 0) {
      b.values[r][k] = Number.NaN;
      b.status[r][k] = CELL_MISSING;
    } else if (r === -2) {
      b.time[k] = Number.NaN;
      b.timeKind[k] = TIME_MISSING;
    } else if (r === -3 && b.label) b.label[k] = Number.NaN;
  };

  let pending: string | null = null;
  let pendingLine = 0;
  const empty: unknown[] = [];
  const D = d.charCodeAt(0);

  /** A line as text (quoted fields, JSON Lines): returns the next free row slot. */
  const textLine = (k: number, text: string, lineNo: number): number => {
    if (pending !== null) {
      text = `${pending}\n${text}`;
      if (text.length > maxLine) throw DataValidationError.of('LINE_TOO_LONG', `The quoted field opened on line ${pendingLine} is not closed within ${maxLine} bytes.`, { line: pendingLine });
    } else if (text.length === 0 || (text.charCodeAt(0) <= 32 && text.trim().length === 0)) {
      counts.blankLines++;
      return k;
    }
    const rowLine = pending !== null ? pendingLine : lineNo;
    if (format === 'csv') {
      if (quotesOdd(text)) {
        if (pending === null) pendingLine = lineNo;
        pending = text;
        return k;
      }
      pending = null;
      const cells = splitQuoted(text, d);
      const ragged = cells.length !== ncols;
      if (ragged && onInvalid) onInvalid(rowLine, 'ragged', undefined, `${cells.length} fields, the header has ${ncols}`);
      fill(k, cells, rowLine, ragged);
      return k + 1;
    }
    const o = parseJsonLine(text);
    if (o === undefined) {
      if (onInvalid) onInvalid(rowLine, 'json', undefined, cellText(text));
      fill(k, empty, rowLine, true);
    } else fill(k, header.map((h) => o[h]), rowLine, false);
    return k + 1;
  };

  const slice = (buf: Buffer, s0: number, e0: number) => buf.toString('utf8', s0, e0);

  /**
   * CSV rows read from the bytes in place. The common cells (plain decimals, ISO timestamps) are
   * read in the same pass that finds their end; any other cell is first delimited, then parsed
   * from the same bytes (numberFromBytes, parseTimestampBytes), to the same values. No strings
   * are made unless a line has quotes (then the line goes the text way) or a cell is invalid (for
   * the message).
   */
  function parseCsvBytes(batch: LineBatch): RowBatch {
    const buf = batch.buf;
    const n = buf.length;
    if (batch.count > cap) b = newBatch(Math.max(batch.count, cap * 2));
    const values = b.values;
    const status = b.status;
    const time = b.time;
    const timeKind = b.timeKind;
    const label = b.label;
    const lines = b.line;
    const raggedRows = b.ragged;
    let k = 0;
    let lineNo = batch.firstLine;
    let p = 0;
    counts.lines = batch.firstLine + batch.count - 1;
    while (p <= n) {
      const ls = p;
      const line = lineNo++;
      if (line <= headerLine || pending !== null) {
        let le = buf.indexOf(10, ls);
        if (le === -1) le = n;
        p = le + 1;
        if (line > headerLine) k = textLine(k, slice(buf, ls, le > ls && buf[le - 1] === 13 ? le - 1 : le), line);
        continue;
      }
      lines[k] = line;
      let col = 0;
      let quoted = false;
      let blank = false;
      for (;;) {
        const fs = p;
        const r = col < ncols ? role[col] : -1;
        let end = -1;
        if (r >= 0 || r === -3) {
          // A sensor or label cell that is a plain decimal of at most 15 digits is read while
          // looking for its end, in one pass (as numberFromBytes reads it: the same double);
          // anything else (missing, quoted, exponent, a long mantissa...) goes the general way below.
          let i = p;
          let c = i < n ? buf[i] : 10;
          const neg = c === 45;
          if (neg || c === 43) c = ++i < n ? buf[i] : 10;
          const ds = i;
          // The mantissa's first 9 digits in small-integer arithmetic; more (rare) are re-read below.
          let m = 0;
          let dot = -1;
          for (;;) {
            const d = c - 48;
            if (d >= 0 && d <= 9) m = (m * 10 + d) | 0;
            else if (c === 46 && dot < 0) dot = i;
            else break;
            c = ++i < n ? buf[i] : 10;
          }
          const digits = dot < 0 ? i - ds : i - ds - 1;
          const crlf = c === 13 && (i + 1 >= n || buf[i + 1] === 10);
          if (digits > 0 && digits <= 15 && (c === D || c === 10 || crlf)) {
            let x = m;
            if (digits > 9) {
              x = 0;
              for (let j = ds; j < i; j++) if (j !== dot) x = x * 10 + (buf[j] - 48);
            }
            const v = dot >= 0 && i - dot > 1 ? x / EXACT_POW10[i - dot - 1] : x;
            if (r >= 0) {
              values[r][k] = neg ? -v : v;
              status[r][k] = CELL_OK;
            } else if (label) label[k] = neg ? -v : v;
            end = i;
          } else p = i; // Bytes [fs, i) are signs, digits and a dot: the field's end is further on.
        } else if (r === -2) {
          // The common timestamp layout, also read in one pass.
          const t = parseIsoField(buf, p, n, D);
          if (t === t) {
            time[k] = t;
            timeKind[k] = lastTimestampKind();
            end = isoFieldEnd();
          }
        }
        if (end >= 0) {
          // Read on the fast path: `end` is the field's delimiter, line feed, CR of a CR LF, or n.
          col++;
          const c = end < n ? buf[end] : 10;
          if (c === D) {
            p = end + 1;
            continue;
          }
          p = c === 13 ? end + 2 : end + 1;
          break;
        }
        let c = 0;
        while (p < n) {
          c = buf[p];
          if (c === D || c === 10 || c === 34) break;
          p++;
        }
        if (p < n && c === 34) {
          quoted = true;
          break;
        }
        let fe = p;
        const eol = p >= n || c === 10;
        if (eol && fe > fs && buf[fe - 1] === 13) fe--;
        if (eol && col === 0) {
          let ws = true;
          for (let i = fs; i < fe; i++) if (buf[i] > 32) ws = false;
          if (ws) {
            blank = true;
            p++;
            break;
          }
        }
        if (col < ncols) {
          if (r >= 0) {
            values[r][k] = numberFromBytes(buf, fs, fe);
            const st = lastCellStatus();
            status[r][k] = st;
            if (st === CELL_INVALID && onInvalid) onInvalid(line, 'value', sensorNames[r], cellText(slice(buf, fs, fe)));
          } else if (r === -2) {
            if (fs === fe) {
              b.time[k] = Number.NaN;
              b.timeKind[k] = TIME_MISSING;
            } else {
              time[k] = parseTimestampBytes(buf, fs, fe);
              const kind = lastTimestampKind();
              timeKind[k] = kind;
              if (kind === TIMESTAMP_INVALID && onInvalid) onInvalid(line, 'timestamp', schema.timestampColumn, cellText(slice(buf, fs, fe)));
            }
          } else if (r === -3 && b.label) {
            const v = numberFromBytes(buf, fs, fe);
            const st = lastCellStatus();
            b.label[k] = st === CELL_MISSING ? Number.NaN : v;
            if (st === CELL_INVALID && onInvalid) onInvalid(line, 'label', schema.labelColumn, cellText(slice(buf, fs, fe)));
          }
        }
        col++;
        p++;
        if (eol) break;
      }
      if (blank) {
        counts.blankLines++;
        continue;
      }
      if (quoted) {
        let le = buf.indexOf(10, ls);
        if (le === -1) le = n;
        p = le + 1;
        k = textLine(k, slice(buf, ls, le > ls && buf[le - 1] === 13 ? le - 1 : le), line);
        continue;
      }
      for (let c = col; c < ncols; c++) setMissing(k, role[c]);
      const ragged = col !== ncols;
      raggedRows[k] = ragged ? 1 : 0;
      if (ragged && onInvalid) onInvalid(line, 'ragged', undefined, `${col} fields, the header has ${ncols}`);
      k++;
    }
    b.count = k;
    counts.rows += k;
    return b;
  }

  function parseTextBatch(batch: LineBatch): RowBatch {
    const lines = lineStrings(batch);
    if (lines.length > cap) b = newBatch(Math.max(lines.length, cap * 2));
    let k = 0;
    counts.lines = batch.firstLine + lines.length - 1;
    for (let i = 0; i < lines.length; i++) k = textLine(k, lines[i], batch.firstLine + i);
    b.count = k;
    counts.rows += k;
    return b;
  }

  const parseBatch = format === 'csv' ? parseCsvBytes : parseTextBatch;

  try {
    for (const batch of buffered) {
      const out = parseBatch(batch);
      if (out.count > 0) yield out;
    }
    buffered.length = 0;
    if (rest) {
      for (;;) {
        const r = await rest.next();
        if (r.done) break;
        const out = parseBatch(r.value);
        if (out.count > 0) yield out;
      }
    }
    if (pending !== null)
      throw DataValidationError.of('UNCLOSED_QUOTE', `The quoted field opened on line ${pendingLine} is never closed.`, { line: pendingLine });
  } finally {
    await rest?.return?.(undefined);
  }
}
