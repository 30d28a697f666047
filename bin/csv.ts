import { readFileSync, writeFileSync } from 'node:fs';
import { splitCsvLine } from '../shared/data/table-reader.js';
import { csvField } from '../shared/data/csv-field.js';
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

const numeric = (cell: string): number => (cell.trim() === '' ? Number.NaN : Number(cell));

/** The index of a named column, or a usage error listing the columns there are. */
export function columnIndex(csv: CsvFile, name: string): number {
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

/**
 * The first column is the timestamp; features are the named columns, or else every other column
 * whose cells are all numbers (a column that is not is reported on stderr, never silently used or dropped).
 */
export function featureTable(csv: CsvFile, selection: FeatureSelection = {}, warn: (message: string) => void = () => undefined): FeatureTable {
  const ignore = new Set(selection.ignore ?? []);
  for (const name of ignore) columnIndex(csv, name);
  let columns: number[];
  if (selection.features) {
    columns = selection.features.map((name) => columnIndex(csv, name));
  } else {
    columns = [];
    for (let c = 1; c < csv.header.length; c++) {
      if (ignore.has(csv.header[c])) continue;
      const bad = csv.rows.findIndex((row) => !Number.isFinite(numeric(row[c])));
      if (bad < 0) columns.push(c);
      else warn(`ignoring column "${csv.header[c]}": row ${bad + 1} is "${csv.rows[bad][c]}", not a number (name it with --features to use it)`);
    }
    if (columns.length === 0) throw new CliError(`${csv.path} has no numeric feature columns (columns: ${csv.header.join(', ')})`);
  }
  const p = columns.length;
  const data = new Float64Array(csv.rows.length * p);
  csv.rows.forEach((row, r) => {
    columns.forEach((c, j) => {
      const v = numeric(row[c]);
      if (!Number.isFinite(v)) throw new CliError(`${csv.path} row ${r + 1}, column "${csv.header[c]}": "${row[c]}" is not a number`);
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
