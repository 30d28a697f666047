/**
 * Validation: one streaming pass that reads every row the way later stages will, counts what
 * is wrong, lists row errors up to a cap, and decides which problems fail the dataset.
 * A large file cut into chunks (chunk-plan.ts) is read chunk by chunk (validatePartial, one
 * function each) and the partials are folded in file order (ValidationMerger). A whole file is
 * the merge of its single partial, so both ways take the same decisions and give the same report.
 */
import { toBuffer, type ByteChunk, type ByteSource } from './byte-source.js';
import { CELL_INVALID, CELL_MISSING } from './cells.js';
import { type DatasetSchema } from './dataset-schema.js';
import { DataValidationError, type FatalIssue } from './errors.js';
import { openTable, TIME_MISSING, type InvalidCellKind, type Table } from './table-reader.js';
import { TIMESTAMP_EPOCH, TIMESTAMP_INVALID, TIMESTAMP_NAIVE, TIMESTAMP_ZONED } from './timestamp.js';
import type { RowError, RowErrorCode, ValidationCounts, ValidationPartial, ValidationReport } from './validation-report.js';

export type { ValidationPartial } from './validation-report.js';

export interface ValidateOptions {
  /** The declared schema; inferred when absent. */
  schema?: DatasetSchema;
  /** Row errors listed in the report; the rest are counted only. */
  maxRowErrors?: number;
  /** Share of ragged rows above which the dataset fails. */
  maxRaggedRatio?: number;
  /** Share of missing or unparseable timestamps above which the dataset fails. */
  maxBadTimestampRatio?: number;
  maxLineBytes?: number;
  /**
   * How options.schema was obtained, as the report says: 'inferred' when it was inferred from the
   * head of the file for a split file (every chunk must read the same columns). Default 'declared'.
   */
  schemaSource?: 'declared' | 'inferred';
  /**
   * Set when the source is one chunk of a split file (see chunk-plan.ts chunkSource): the CSV
   * header followed by the chunk's lines, or for JSON Lines the chunk's lines alone. options.schema
   * should then be given, the same for every chunk.
   */
  chunk?: { index: number; format: 'csv' | 'jsonl' };
}

const ROW_CODE: Record<InvalidCellKind, RowErrorCode> = {
  timestamp: 'INVALID_TIMESTAMP',
  value: 'NON_NUMERIC_VALUE',
  label: 'INVALID_LABEL',
  ragged: 'RAGGED_ROW',
  json: 'INVALID_JSON',
};
const ROW_MESSAGE: Record<InvalidCellKind, string> = {
  timestamp: 'timestamp cannot be parsed (ISO 8601, "YYYY-MM-DD hh:mm:ss" or epoch expected)',
  value: 'value is not a number',
  label: 'label is not 0/1',
  ragged: 'wrong number of fields',
  json: 'line is not a JSON object',
};

const emptyCounts = (): ValidationCounts => ({
  lines: 0,
  rows: 0,
  blankLines: 0,
  validRows: 0,
  rowsWithErrors: 0,
  raggedRows: 0,
  invalidTimestamps: 0,
  missingTimestamps: 0,
  missingValues: 0,
  nonNumericValues: 0,
  zonedTimestamps: 0,
  naiveTimestamps: 0,
  epochTimestamps: 0,
});

/** Validates a file (CSV, gzip CSV or JSON Lines). Never throws for bad data: fatal problems are in report.fatalErrors. */
export async function validateDataset(source: ByteSource, options: ValidateOptions = {}): Promise<ValidationReport> {
  const merger = new ValidationMerger(options);
  merger.add(await validatePartial(source, options));
  return merger.finish();
}

type FirstLines = ValidationPartial['firstLines'];

/**
 * Counts the lines of the bytes that go by while `on` (as the line reader counts them), and
 * finds the first line with something else than ASCII white space (the CSV header line).
 */
function lineTally(source: ByteSource): { source: ByteSource; lines(): number; firstContentLine(): number; stop(): void } {
  let on = true;
  let newlines = 0;
  let bytes = 0;
  let last = 10;
  let firstContent = 0;
  return {
    source: (async function* () {
      for await (const chunk of source) {
        if (on) {
          const b = toBuffer(chunk);
          if (b.length > 0) {
            if (firstContent === 0) {
              let line = newlines + 1;
              for (let i = 0; i < b.length; i++) {
                const c = b[i];
                if (c === 10) line++;
                else if (c !== 32 && c !== 9 && c !== 13 && c !== 11 && c !== 12 && !(bytes + i < 3 && (c === 0xef || c === 0xbb || c === 0xbf))) {
                  firstContent = line;
                  break;
                }
              }
            }
            for (let p = b.indexOf(10); p !== -1; p = b.indexOf(10, p + 1)) newlines++;
            bytes += b.length;
            last = b[b.length - 1];
          }
        }
        yield chunk;
      }
    })(),
    lines: () => newlines + (bytes > 0 && last !== 10 ? 1 : 0),
    firstContentLine: () => firstContent,
    stop: () => {
      on = false;
    },
  };
}

/** A JSON Lines placeholder holding every schema column (null), put before a chunk's lines; see ValidateOptions.chunk. */
function placeholderLine(schema: DatasetSchema): string {
  const columns = [schema.timestampColumn, ...schema.sensorColumns.map((c) => c.name), ...(schema.labelColumn !== undefined ? [schema.labelColumn] : [])];
  return `${JSON.stringify(Object.fromEntries(columns.map((c) => [c, null])))}\n`;
}

const isNoData = (issues: FatalIssue[]) => issues.length === 1 && (issues[0].code === 'EMPTY_FILE' || issues[0].code === 'HEADER_ONLY');

/**
 * The streaming pass of validation over one part of a file: the whole file, or one chunk of a
 * split file (see ValidateOptions.chunk). Returns what ValidationMerger needs to build the
 * file's report, with the part's own line numbers. Never throws for bad data.
 */
export async function validatePartial(source: ByteSource, options: ValidateOptions = {}): Promise<ValidationPartial> {
  const maxRowErrors = options.maxRowErrors ?? 100;
  const rowErrors: RowError[] = [];
  let truncated = false;
  const counts = emptyCounts();
  const fatalErrors: FatalIssue[] = [];
  let table: Table | undefined;
  let minT = Infinity;
  let maxT = -Infinity;
  let firstT = Number.NaN;
  let firstTLine = 0;
  let lastT = Number.NaN;
  let lastTLine = 0;
  let outOfOrder = 0;
  const firstLine: FirstLines = { zoned: 0, naive: 0, badTime: 0, ragged: 0 };

  // A JSON Lines chunk other than the first starts with a placeholder line naming every column, so
  // that the table opens on it as on the file's first line (a broken or blank first line in the chunk
  // is then a row error, as in the whole file). Its row is skipped, and it is the chunk's header line.
  const placeholder = options.chunk !== undefined && options.chunk.index > 0 && options.chunk.format === 'jsonl' && options.schema !== undefined;
  const skipThrough = placeholder ? 1 : 0;
  let skipped = 0;
  const input: ByteSource = placeholder ? prepend(placeholderLine(options.schema as DatasetSchema), source) : source;
  // Only a chunk needs its lines counted when it has no data line (a whole file then has no counts).
  const tally = options.chunk !== undefined ? lineTally(input) : undefined;

  // Row errors are the first maxRowErrors in line order (a row's cell errors, then its missing
  // timestamp). Cell errors come while a batch is parsed, missing timestamps when its rows are
  // read: those are put back in line order, so that the list does not depend on how the bytes
  // were cut into batches (and the errors of a split file's chunks concatenate to the same list).
  const addRowError = (e: RowError) => {
    const n = rowErrors.length;
    if (n > 0 && rowErrors[n - 1].line > e.line) {
      let i = n - 1;
      while (i > 0 && rowErrors[i - 1].line > e.line) i--;
      if (n >= maxRowErrors) {
        rowErrors.pop();
        truncated = true;
      }
      rowErrors.splice(i, 0, e);
    } else if (n >= maxRowErrors) truncated = true;
    else rowErrors.push(e);
  };
  const onInvalidCell = (line: number, kind: InvalidCellKind, column: string | undefined, text: string) => {
    if (line <= skipThrough) return;
    if (rowErrors.length >= maxRowErrors && rowErrors.length > 0 && rowErrors[rowErrors.length - 1].line <= line) {
      truncated = true;
      return;
    }
    addRowError({ line, code: ROW_CODE[kind], ...(column !== undefined ? { column } : {}), ...(kind === 'ragged' ? {} : { value: text }), message: kind === 'ragged' ? `${ROW_MESSAGE[kind]}: ${text}` : ROW_MESSAGE[kind] });
  };

  let noData: FatalIssue | undefined;
  try {
    try {
      table = await openTable(tally?.source ?? input, { schema: options.schema, maxLineBytes: options.maxLineBytes, onInvalidCell });
    } finally {
      tally?.stop();
    }
    let prev = Number.NaN;
    for await (const b of table.batches()) {
      const nsens = b.values.length;
      for (let k = 0; k < b.count; k++) {
        if (b.line[k] <= skipThrough) {
          skipped++;
          continue;
        }
        let bad = b.ragged[k] === 1;
        if (bad) {
          counts.raggedRows++;
          if (firstLine.ragged === 0) firstLine.ragged = b.line[k];
        }
        const kind = b.timeKind[k];
        if (kind === TIMESTAMP_INVALID || kind === TIME_MISSING) {
          bad = true;
          if (kind === TIMESTAMP_INVALID) counts.invalidTimestamps++;
          else {
            counts.missingTimestamps++;
            addRowError({ line: b.line[k], code: 'INVALID_TIMESTAMP', column: table.layout.schema.timestampColumn, message: 'timestamp is missing' });
          }
          if (firstLine.badTime === 0) firstLine.badTime = b.line[k];
        } else {
          const t = b.time[k];
          if (t < minT) minT = t;
          if (t > maxT) maxT = t;
          if (t < prev) outOfOrder++;
          prev = t;
          if (firstTLine === 0) {
            firstT = t;
            firstTLine = b.line[k];
          }
          lastT = t;
          lastTLine = b.line[k];
          if (kind === TIMESTAMP_ZONED) {
            counts.zonedTimestamps++;
            if (firstLine.zoned === 0) firstLine.zoned = b.line[k];
          } else if (kind === TIMESTAMP_NAIVE) {
            counts.naiveTimestamps++;
            if (firstLine.naive === 0) firstLine.naive = b.line[k];
          } else if (kind === TIMESTAMP_EPOCH) counts.epochTimestamps++;
        }
        for (let j = 0; j < nsens; j++) {
          const st = b.status[j][k];
          if (st === CELL_MISSING) counts.missingValues++;
          else if (st === CELL_INVALID) {
            counts.nonNumericValues++;
            bad = true;
          }
        }
        if (bad) counts.rowsWithErrors++;
      }
    }
  } catch (e) {
    if (!(e instanceof DataValidationError)) throw e;
    // No data line: fatal for a whole file, but a chunk may be blank lines only.
    if (table === undefined && isNoData(e.issues)) noData = e.issues[0];
    else fatalErrors.push(...e.issues);
  }
  let headerLines = 0;
  if (table) {
    counts.lines = table.counts.lines;
    counts.rows = table.counts.rows - skipped;
    counts.blankLines = table.counts.blankLines;
    headerLines = table.layout.format === 'csv' ? table.layout.headerLine : skipThrough;
  } else if (noData) {
    // The source was read to its end: every line but the header (if any) is blank.
    counts.lines = tally?.lines() ?? 0;
    headerLines = noData.code === 'HEADER_ONLY' ? Math.min(noData.line ?? 0, counts.lines) : 0;
    counts.blankLines = counts.lines - headerLines;
  } else if (tally && options.chunk) {
    // The table did not open (a read problem in the first rows): its lines still need the header's.
    headerLines = placeholder ? 1 : options.chunk.format === 'csv' ? tally.firstContentLine() : 0;
  }
  counts.validRows = counts.rows - counts.rowsWithErrors;

  const layout = table?.layout;
  return {
    ...(options.chunk !== undefined ? { chunk: options.chunk.index } : {}),
    ...(layout
      ? {
          layout: {
            format: layout.format,
            ...(layout.delimiter ? { delimiter: layout.delimiter } : {}),
            header: layout.header,
            schema: layout.schema,
            schemaSource: options.schema !== undefined && options.schemaSource !== undefined ? options.schemaSource : layout.schemaSource,
            ignoredColumns: layout.ignoredColumns,
          },
        }
      : {}),
    ...(noData ? { noData } : {}),
    headerLines,
    counts,
    rowErrors,
    rowErrorsTruncated: truncated,
    fatalErrors,
    ...(firstTLine > 0 ? { time: { min: minT, max: maxT, first: { time: firstT, line: firstTLine }, last: { time: lastT, line: lastTLine } } } : {}),
    outOfOrderRows: outOfOrder,
    firstLines: firstLine,
  };
}

async function* prepend(head: string, source: ByteSource): AsyncGenerator<ByteChunk> {
  yield Buffer.from(head, 'utf8');
  yield* source;
}

/** The issue at the file's line, its message included ("Line 12 is...", "opened on line 12"). */
function withLine(issue: FatalIssue, local: number, line: number): FatalIssue {
  if (line === local) return issue;
  const message = issue.message.replace(/\b([Ll]ine) (\d+)\b/g, (m: string, word: string, n: string) => (Number(n) === local ? `${word} ${line}` : m));
  return { ...issue, message, line };
}

/**
 * Folds validation partials, given one at a time in file order, into the file's report: counts
 * add up (header lines once), row errors and fatal issues get the file's line numbers, rows out
 * of order across part boundaries are counted, then the whole-file decisions (ragged rows, bad
 * timestamps, mixed zones...) are taken on the totals. Memory is bounded by one partial plus the
 * capped row errors. As a single pass over the file stops at its first fatal issue, parts after
 * the first one with fatal issues are ignored.
 */
export class ValidationMerger {
  private readonly maxRowErrors: number;
  private parts = 0;
  /** Lines of the file before the next part's data lines. */
  private base = 0;
  private layout: ValidationPartial['layout'];
  private noData: FatalIssue | undefined;
  private readonly counts = emptyCounts();
  private readonly rowErrors: RowError[] = [];
  private truncated = false;
  private readonly fatalErrors: FatalIssue[] = [];
  private minT = Infinity;
  private maxT = -Infinity;
  private lastT = Number.NaN;
  private outOfOrder = 0;
  private readonly firstLine: FirstLines = { zoned: 0, naive: 0, badTime: 0, ragged: 0 };

  constructor(private readonly options: ValidateOptions = {}) {
    this.maxRowErrors = options.maxRowErrors ?? 100;
  }

  add(part: ValidationPartial): void {
    if (part.chunk !== undefined && part.chunk !== this.parts) throw new Error(`Validation partials must be merged in file order: got chunk ${part.chunk}, expected ${this.parts}.`);
    this.parts++;
    if (this.fatalErrors.length > 0) return;
    const h = part.headerLines;
    if (this.parts === 1) this.base = h;
    const base = this.base;
    const at = (line: number) => (line > h ? line - h + base : line);

    const c = this.counts;
    const pc = part.counts;
    c.rows += pc.rows;
    c.blankLines += pc.blankLines;
    c.rowsWithErrors += pc.rowsWithErrors;
    c.raggedRows += pc.raggedRows;
    c.invalidTimestamps += pc.invalidTimestamps;
    c.missingTimestamps += pc.missingTimestamps;
    c.missingValues += pc.missingValues;
    c.nonNumericValues += pc.nonNumericValues;
    c.zonedTimestamps += pc.zonedTimestamps;
    c.naiveTimestamps += pc.naiveTimestamps;
    c.epochTimestamps += pc.epochTimestamps;
    this.base += Math.max(0, pc.lines - h);

    for (const e of part.rowErrors) {
      if (this.rowErrors.length >= this.maxRowErrors) {
        this.truncated = true;
        break;
      }
      this.rowErrors.push({ ...e, line: at(e.line) });
    }
    if (part.rowErrorsTruncated) this.truncated = true;

    for (const key of ['zoned', 'naive', 'badTime', 'ragged'] as const) if (this.firstLine[key] === 0 && part.firstLines[key] > 0) this.firstLine[key] = at(part.firstLines[key]);

    if (part.time) {
      if (part.time.min < this.minT) this.minT = part.time.min;
      if (part.time.max > this.maxT) this.maxT = part.time.max;
      if (part.time.first.time < this.lastT) this.outOfOrder++;
      this.lastT = part.time.last.time;
    }
    this.outOfOrder += part.outOfOrderRows;

    this.layout ??= part.layout;
    this.noData ??= part.noData;
    for (const e of part.fatalErrors) this.fatalErrors.push(e.line !== undefined ? withLine(e, e.line, at(e.line)) : e);
  }

  finish(): ValidationReport {
    if (this.parts === 0) throw new Error('No validation partial to merge.');
    const counts = this.counts;
    const fatalErrors = [...this.fatalErrors];
    // No part had a data row: the file is empty or a header only, as a single pass says.
    if (fatalErrors.length === 0 && this.noData && (this.layout === undefined || counts.rows === 0))
      return { valid: false, accepted: false, header: [], ignoredColumns: [], fatalErrors: [this.noData], rowErrors: [], rowErrorsTruncated: false, counts: emptyCounts(), outOfOrderRows: 0 };
    const layout = this.layout;
    if (layout) counts.lines = this.base;
    else Object.assign(counts, emptyCounts());
    counts.validRows = counts.rows - counts.rowsWithErrors;
    const firstLine = this.firstLine;
    const options = this.options;

    if (layout && fatalErrors.length === 0) {
      const rows = counts.rows;
      const raggedRatio = options.maxRaggedRatio ?? 0.01;
      const badTimeRatio = options.maxBadTimestampRatio ?? 0.01;
      const col = layout.schema.timestampColumn;
      if (rows === 0) fatalErrors.push({ code: 'HEADER_ONLY', message: 'The file has no data rows.' });
      if (counts.raggedRows > raggedRatio * rows)
        fatalErrors.push({
          code: 'RAGGED_ROWS',
          message: `${counts.raggedRows} of ${rows} rows have a different number of fields than the header (more than ${raggedRatio * 100}%): check the delimiter and quoting.`,
          line: firstLine.ragged,
        });
      const badTimes = counts.invalidTimestamps + counts.missingTimestamps;
      if (rows > 0 && badTimes === rows) fatalErrors.push({ code: 'NO_VALID_ROWS', message: `No row has a readable timestamp in column ${JSON.stringify(col)}.`, column: col, line: firstLine.badTime });
      else if (badTimes > badTimeRatio * rows)
        fatalErrors.push({
          code: 'UNPARSEABLE_TIMESTAMPS',
          message: `${badTimes} of ${rows} timestamps in column ${JSON.stringify(col)} are missing or cannot be parsed (more than ${badTimeRatio * 100}%); use ISO 8601, "YYYY-MM-DD hh:mm:ss" or epoch seconds/milliseconds.`,
          column: col,
          line: firstLine.badTime,
        });
      if (counts.zonedTimestamps > 0 && counts.naiveTimestamps > 0) {
        const minority = counts.zonedTimestamps < counts.naiveTimestamps ? firstLine.zoned : firstLine.naive;
        fatalErrors.push({
          code: 'MIXED_TIMEZONES',
          message: `Timestamps mix zones: ${counts.zonedTimestamps} carry a UTC offset or Z and ${counts.naiveTimestamps} do not, so their order is ambiguous; give every timestamp an offset, or none.`,
          column: col,
          line: minority,
        });
      }
    }

    return {
      valid: fatalErrors.length === 0 && counts.rowsWithErrors === 0,
      accepted: fatalErrors.length === 0,
      ...(layout ? { format: layout.format, ...(layout.delimiter ? { delimiter: layout.delimiter } : {}), schema: layout.schema, schemaSource: layout.schemaSource } : {}),
      header: layout?.header ?? [],
      ignoredColumns: layout?.ignoredColumns ?? [],
      fatalErrors,
      rowErrors: [...this.rowErrors],
      rowErrorsTruncated: this.truncated,
      counts: { ...counts },
      ...(this.minT <= this.maxT ? { timeRange: { start: new Date(this.minT).toISOString(), end: new Date(this.maxT).toISOString() } } : {}),
      outOfOrderRows: this.outOfOrder,
    };
  }
}

/**
 * The report's fatal errors as the typed error an HTTP handler or a pipeline step throws. Row
 * errors do not fail a dataset (their cells read as missing): only what makes it not `accepted`.
 */
export function assertValid(report: ValidationReport): void {
  if (!report.accepted) throw new DataValidationError(report.fatalErrors);
}
