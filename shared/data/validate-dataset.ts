/**
 * Validation: one streaming pass that reads every row the way later stages will, counts what
 * is wrong, lists row errors up to a cap, and decides which problems fail the dataset.
 */
import { type ByteSource } from './byte-source.js';
import { CELL_INVALID, CELL_MISSING } from './cells.js';
import { type DatasetSchema } from './dataset-schema.js';
import { DataValidationError, type FatalIssue } from './errors.js';
import { openTable, TIME_MISSING, type InvalidCellKind, type Table } from './table-reader.js';
import { TIMESTAMP_EPOCH, TIMESTAMP_INVALID, TIMESTAMP_NAIVE, TIMESTAMP_ZONED } from './timestamp.js';
import type { RowError, RowErrorCode, ValidationCounts, ValidationReport } from './validation-report.js';

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
  const maxRowErrors = options.maxRowErrors ?? 100;
  const rowErrors: RowError[] = [];
  let truncated = false;
  const counts = emptyCounts();
  const fatalErrors: FatalIssue[] = [];
  let table: Table | undefined;
  let minT = Infinity;
  let maxT = -Infinity;
  let outOfOrder = 0;
  const firstLine = { zoned: 0, naive: 0, badTime: 0, ragged: 0 };

  const onInvalidCell = (line: number, kind: InvalidCellKind, column: string | undefined, text: string) => {
    if (rowErrors.length >= maxRowErrors) {
      truncated = true;
      return;
    }
    rowErrors.push({ line, code: ROW_CODE[kind], ...(column !== undefined ? { column } : {}), ...(kind === 'ragged' ? {} : { value: text }), message: kind === 'ragged' ? `${ROW_MESSAGE[kind]}: ${text}` : ROW_MESSAGE[kind] });
  };

  try {
    table = await openTable(source, { schema: options.schema, maxLineBytes: options.maxLineBytes, onInvalidCell });
    let prev = Number.NaN;
    for await (const b of table.batches()) {
      const nsens = b.values.length;
      for (let k = 0; k < b.count; k++) {
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
            if (rowErrors.length < maxRowErrors) rowErrors.push({ line: b.line[k], code: 'INVALID_TIMESTAMP', column: table.layout.schema.timestampColumn, message: 'timestamp is missing' });
            else truncated = true;
          }
          if (firstLine.badTime === 0) firstLine.badTime = b.line[k];
        } else {
          const t = b.time[k];
          if (t < minT) minT = t;
          if (t > maxT) maxT = t;
          if (t < prev) outOfOrder++;
          prev = t;
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
    fatalErrors.push(...e.issues);
  }
  if (table) {
    counts.lines = table.counts.lines;
    counts.rows = table.counts.rows;
    counts.blankLines = table.counts.blankLines;
  }
  counts.validRows = counts.rows - counts.rowsWithErrors;

  if (table && fatalErrors.length === 0) {
    const rows = counts.rows;
    const raggedRatio = options.maxRaggedRatio ?? 0.01;
    const badTimeRatio = options.maxBadTimestampRatio ?? 0.01;
    const col = table.layout.schema.timestampColumn;
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

  const layout = table?.layout;
  return {
    valid: fatalErrors.length === 0,
    ...(layout ? { format: layout.format, ...(layout.delimiter ? { delimiter: layout.delimiter } : {}), schema: layout.schema, schemaSource: layout.schemaSource } : {}),
    header: layout?.header ?? [],
    ignoredColumns: layout?.ignoredColumns ?? [],
    fatalErrors,
    rowErrors,
    rowErrorsTruncated: truncated,
    counts,
    ...(minT <= maxT ? { timeRange: { start: new Date(minT).toISOString(), end: new Date(maxT).toISOString() } } : {}),
    outOfOrderRows: outOfOrder,
  };
}

/** The report's fatal errors as the typed error an HTTP handler or a pipeline step throws. */
export function assertValid(report: ValidationReport): void {
  if (!report.valid) throw new DataValidationError(report.fatalErrors);
}
