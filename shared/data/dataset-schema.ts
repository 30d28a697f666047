/**
 * What a dataset's columns mean: the timestamp column, the sensor columns, an optional label
 * column. Declared by the user at registration (POST /datasets) or inferred from the first rows.
 */
import { z } from 'zod';
import { CELL_OK, lastCellStatus, numberFromCell } from './cells.js';
import { lastTimestampKind, TIMESTAMP_EPOCH, timestampFromCell } from './timestamp.js';

export const DataFormat = z.enum(['csv', 'csv.gz', 'jsonl']).describe('File format: CSV, gzip-compressed CSV, or JSON Lines');
export type DataFormat = z.infer<typeof DataFormat>;

export const Delimiter = z.enum([',', ';', '\t']).describe('CSV field delimiter: comma, semicolon or tab');
export type Delimiter = z.infer<typeof Delimiter>;

const columnName = z.string().min(1).max(256);

export const ExpectedRange = z
  .object({
    min: z.number().describe('Lowest plausible value'),
    max: z.number().describe('Highest plausible value'),
  })
  .refine((r) => r.min <= r.max, { message: 'min must not exceed max' })
  .describe('Values outside this range are reported as out of range');
export type ExpectedRange = z.infer<typeof ExpectedRange>;

export const SensorColumn = z
  .object({
    name: columnName.describe('Column name as in the file header (or the JSON key)'),
    unit: z.string().max(32).optional().describe('Unit of measure, e.g. "degC" or "bar"'),
    expectedRange: ExpectedRange.optional(),
    sensorId: z.string().max(128).optional().describe('Id of the sensor in the sensor registry this column maps to'),
  })
  .describe('A numeric sensor column');
export type SensorColumn = z.infer<typeof SensorColumn>;

export const DatasetSchema = z
  .object({
    format: DataFormat.optional().describe('File format; detected from the content when absent'),
    delimiter: Delimiter.optional().describe('CSV delimiter; detected from the header when absent'),
    timestampColumn: columnName.describe('Column holding the time of each row (ISO 8601, "YYYY-MM-DD hh:mm:ss" or epoch s/ms)'),
    sensorColumns: z.array(SensorColumn).min(1).max(1000).describe('Numeric sensor columns, in output order'),
    labelColumn: columnName.optional().describe('Optional column of known anomaly labels (0/1)'),
    expectedIntervalSeconds: z.number().positive().max(31_536_000).optional().describe('Sampling interval the data should have, in seconds'),
  })
  .superRefine((s, ctx) => {
    const seen = new Set<string>([s.timestampColumn]);
    for (const c of s.sensorColumns) {
      if (seen.has(c.name)) ctx.addIssue({ code: 'custom', message: `column "${c.name}" is used twice`, path: ['sensorColumns'] });
      seen.add(c.name);
    }
    if (s.labelColumn !== undefined && seen.has(s.labelColumn)) ctx.addIssue({ code: 'custom', message: 'labelColumn must differ from the other columns', path: ['labelColumn'] });
  })
  .describe('Meaning of the columns of a dataset');
export type DatasetSchema = z.infer<typeof DatasetSchema>;

/** The first rows of a file, as cells (strings from CSV, JSON values from JSON Lines). */
export interface SchemaSample {
  header: readonly string[];
  rows: readonly (readonly unknown[])[];
  format?: DataFormat;
  delimiter?: Delimiter;
}

const TIME_NAME = /^(time|timestamp|datetime|date|ts|date_?time|time_?stamp|event_?time|created_?at)$|time|date/i;
const LABEL_NAME = /^(label|labels|anomaly|is_?anomaly|target|class|fault|changepoint|outlier|y)$/i;

/** A column named like a label (anomaly, changepoint, ...): inference makes it the label, and training and detection never take it as a feature. */
export const isLabelColumnName = (name: string): boolean => LABEL_NAME.test(name);

function share(rows: readonly (readonly unknown[])[], col: number, ok: (cell: unknown) => boolean): { hits: number; present: number } {
  let hits = 0;
  let present = 0;
  for (const r of rows) {
    const cell = r[col];
    if (cell === undefined || cell === null || cell === '') continue;
    present++;
    if (ok(cell)) hits++;
  }
  return { hits, present };
}

/**
 * Infers the schema from a sample: the timestamp column is the first that parses as time
 * (preferring time-like names; bare epoch numbers only under such a name), a label column is a
 * 0/1 column with a label-like name, and sensors are the other mostly numeric columns.
 * Returns null fields it could not decide; the caller turns those into fatal issues.
 */
export function inferSchema(sample: SchemaSample): { schema: DatasetSchema | null; timestampColumn?: string; sensorColumns: string[]; ignoredColumns: string[] } {
  const { header, rows } = sample;
  const isCalendar = (cell: unknown) => Number.isFinite(timestampFromCell(cell)) && lastTimestampKind() !== TIMESTAMP_EPOCH;
  const isEpoch = (cell: unknown) => Number.isFinite(timestampFromCell(cell));
  const mostly = (r: { hits: number; present: number }, f: number) => r.present > 0 && r.hits >= f * r.present;

  let tsIndex = -1;
  const byName = header.map((h, i) => ({ h, i })).filter(({ h }) => TIME_NAME.test(h));
  for (const { i } of byName) if (mostly(share(rows, i, isEpoch), 0.9)) { tsIndex = i; break; }
  if (tsIndex < 0) tsIndex = header.findIndex((_, i) => mostly(share(rows, i, isCalendar), 0.9));
  // A column named like time whose values do not parse is still the time column: validation then
  // reports its unparseable timestamps with line numbers, which says more than "no time column".
  if (tsIndex < 0 && byName.length > 0) tsIndex = byName[0].i;

  let labelIndex = -1;
  const sensors: string[] = [];
  const ignored: string[] = [];
  header.forEach((name, i) => {
    if (i === tsIndex) return;
    const numeric = share(rows, i, (cell) => {
      numberFromCell(cell);
      return lastCellStatus() === CELL_OK;
    });
    const binary = share(rows, i, (cell) => {
      const x = numberFromCell(cell);
      return lastCellStatus() === CELL_OK && (x === 0 || x === 1);
    });
    if (isLabelColumnName(name) && (binary.present === 0 || mostly(binary, 1))) {
      if (labelIndex < 0) labelIndex = i;
      else ignored.push(name);
      return;
    }
    if (numeric.present === 0 || mostly(numeric, 0.5)) sensors.push(name);
    else ignored.push(name);
  });

  const intervals: number[] = [];
  if (tsIndex >= 0) {
    let prev = Number.NaN;
    for (const r of rows) {
      const t = timestampFromCell(r[tsIndex]);
      if (Number.isFinite(t) && Number.isFinite(prev) && t > prev) intervals.push(t - prev);
      if (Number.isFinite(t)) prev = t;
    }
  }
  intervals.sort((a, b) => a - b);
  const medianMs = intervals.length > 0 ? intervals[Math.floor(intervals.length / 2)] : undefined;

  const timestampColumn = tsIndex >= 0 ? header[tsIndex] : undefined;
  if (timestampColumn === undefined || sensors.length === 0) return { schema: null, timestampColumn, sensorColumns: sensors, ignoredColumns: ignored };
  const schema: DatasetSchema = {
    ...(sample.format ? { format: sample.format } : {}),
    ...(sample.delimiter ? { delimiter: sample.delimiter } : {}),
    timestampColumn,
    sensorColumns: sensors.map((name) => ({ name })),
    ...(labelIndex >= 0 ? { labelColumn: header[labelIndex] } : {}),
    ...(medianMs !== undefined ? { expectedIntervalSeconds: medianMs / 1000 } : {}),
  };
  return { schema, timestampColumn, sensorColumns: sensors, ignoredColumns: ignored };
}
