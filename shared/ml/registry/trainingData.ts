/**
 * The processed dataset as a training matrix: the CSV is streamed with the data context's table
 * reader, only the chosen feature columns (and the label) are kept, rows with a missing feature
 * are dropped, then the leading rows are the training part and the rest the hold-out.
 */
import type { ByteSource } from '../../data/byte-source.js';
import type { DatasetSchema } from '../../data/dataset-schema.js';
import { defaultFeatures } from '../features.js';
import { openTable } from '../../data/table-reader.js';
import { UnprocessableError } from '../../platform/errors.js';
import type { Matrix } from '../multivariate/matrix.js';

export interface TrainingColumns {
  /** The dataset's timestamp column; the schema is inferred from the file when absent. */
  timestampColumn?: string;
  /** Columns to train on, in order; default the sensor columns. */
  features?: readonly string[];
  labelColumn?: string;
}

export interface TrainingTable {
  features: string[];
  /** All usable rows, in file order. */
  matrix: Matrix;
  /** 0/1 per row, NaN where unknown; null when the dataset has no label column. */
  labels: Float64Array | null;
  /** Epoch ms of each row, NaN where the file has none: what operators' verdicts are matched on. */
  times: Float64Array;
  droppedRows: number;
}

export interface Split {
  trainRows?: number;
  trainFraction?: number;
}

/** Rows a training run reads at most: 5 M rows x 8 features is 320 MB of doubles. */
export const MAX_TRAINING_CELLS = 40_000_000;
const DEFAULT_TRAIN_FRACTION = 0.7;
const MIN_TRAIN_ROWS = 10;

class GrowingArray {
  data: Float64Array;
  length = 0;
  constructor(capacity: number) {
    this.data = new Float64Array(capacity);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
  trimmed(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

function declaredSchema(columns: TrainingColumns): DatasetSchema | undefined {
  if (!columns.timestampColumn || !columns.features) return undefined;
  return {
    format: 'csv',
    timestampColumn: columns.timestampColumn,
    sensorColumns: columns.features.map((name) => ({ name })),
    ...(columns.labelColumn && !columns.features.includes(columns.labelColumn) ? { labelColumn: columns.labelColumn } : {}),
  };
}

/** Streams the processed CSV into a matrix of the chosen features (bounded by MAX_TRAINING_CELLS). */
export async function readTrainingTable(source: ByteSource, columns: TrainingColumns, maxCells = MAX_TRAINING_CELLS): Promise<TrainingTable> {
  const table = await openTable(source, { schema: declaredSchema(columns) });
  const sensors = table.layout.schema.sensorColumns.map((c) => c.name);
  const features = columns.features ? [...columns.features] : defaultFeatures(table.layout.schema);
  const missing = features.filter((f) => !sensors.includes(f));
  if (missing.length > 0) {
    throw new UnprocessableError(`The processed dataset has no column ${missing.map((m) => JSON.stringify(m)).join(', ')} (columns: ${sensors.join(', ')}).`);
  }
  const index = features.map((f) => sensors.indexOf(f));
  const cols = features.length;
  const values = new GrowingArray(cols * 4096);
  const labels = table.layout.schema.labelColumn ? new GrowingArray(4096) : null;
  const times = new GrowingArray(4096);
  let rows = 0;
  let droppedRows = 0;
  for await (const batch of table.batches()) {
    for (let k = 0; k < batch.count; k++) {
      let complete = true;
      for (let c = 0; c < cols; c++) if (!Number.isFinite(batch.values[index[c]][k])) complete = false;
      if (!complete) {
        droppedRows++;
        continue;
      }
      if ((rows + 1) * cols > maxCells) throw new UnprocessableError(`The dataset has more than ${Math.floor(maxCells / cols)} usable rows of ${cols} features; train on fewer rows or features.`);
      for (let c = 0; c < cols; c++) values.push(batch.values[index[c]][k]);
      labels?.push(batch.label ? batch.label[k] : Number.NaN);
      times.push(batch.time[k]);
      rows++;
    }
  }
  if (rows === 0) throw new UnprocessableError(`The processed dataset has no row with every feature present (${droppedRows} rows dropped).`);
  return { features, matrix: { rows, cols, data: values.trimmed() }, labels: labels?.trimmed() ?? null, times: times.trimmed(), droppedRows };
}

/** Below this share of the rows, a first labelled anomaly is too early to end the training part at. */
const MIN_CLEAN_SHARE = 0.2;

/**
 * How many leading rows are the training part. Unless the request says, 70%; with labels, the rows
 * before the first labelled anomaly when there are fewer (and at least a fifth of all rows), so the
 * detector learns from a clean stretch and the hold-out holds every labelled anomaly.
 */
export function trainingRowCount(total: number, split: Split, labels: Float64Array | null = null): number {
  const firstAnomaly = labels ? labels.indexOf(1) : -1;
  const clean = firstAnomaly >= Math.max(MIN_TRAIN_ROWS, MIN_CLEAN_SHARE * total) ? firstAnomaly : total;
  const n = split.trainRows ?? (split.trainFraction !== undefined ? Math.floor(total * split.trainFraction) : Math.min(clean, Math.floor(total * DEFAULT_TRAIN_FRACTION)));
  if (n < MIN_TRAIN_ROWS) throw new UnprocessableError(`Training needs at least ${MIN_TRAIN_ROWS} rows; the split leaves ${n} of ${total}.`);
  if (n > total) throw new UnprocessableError(`trainRows is ${n} but the dataset has ${total} usable rows.`);
  return n;
}

/**
 * The training rows, without the ones labelled anomalous and those inside an anomaly an operator
 * confirmed (`confirmed`, 1 per row): detectors learn what normal looks like.
 */
export function trainingMatrix(table: TrainingTable, trainRows: number, confirmed?: ArrayLike<number>): Matrix {
  return leadingNormalRows(table.matrix, table.labels, trainRows, confirmed);
}

/** Rows of the training part inside a confirmed anomaly and not labelled anomalous by the dataset: what the verdicts added. */
export function confirmedRowsLeftOut(labels: ArrayLike<number> | null, confirmed: ArrayLike<number>, trainRows: number): number {
  let n = 0;
  for (let r = 0; r < trainRows; r++) if (confirmed[r] === 1 && labels?.[r] !== 1) n++;
  return n;
}

/** The first `trainRows` rows of a matrix, less those labelled 1 or marked in `excluded` (the CLI's train shares it). */
export function leadingNormalRows(matrix: Matrix, labels: ArrayLike<number> | null | undefined, trainRows: number, excluded?: ArrayLike<number>): Matrix {
  const { cols, data } = matrix;
  if (!labels && !excluded) return { rows: trainRows, cols, data: data.slice(0, trainRows * cols) };
  const kept: number[] = [];
  for (let r = 0; r < trainRows; r++) if (labels?.[r] !== 1 && excluded?.[r] !== 1) kept.push(r);
  if (kept.length < MIN_TRAIN_ROWS) throw new UnprocessableError(`Only ${kept.length} of the ${trainRows} training rows are not labelled or confirmed anomalous; at least ${MIN_TRAIN_ROWS} are needed.`);
  const out = new Float64Array(kept.length * cols);
  kept.forEach((r, i) => out.set(data.subarray(r * cols, (r + 1) * cols), i * cols));
  return { rows: kept.length, cols, data: out };
}

/** The hold-out rows (after the training part) and their labels. */
export function holdout(table: TrainingTable, trainRows: number): { matrix: Matrix; labels: Float64Array | null } {
  const { rows, cols, data } = table.matrix;
  return {
    matrix: { rows: rows - trainRows, cols, data: data.slice(trainRows * cols) },
    labels: table.labels ? table.labels.slice(trainRows) : null,
  };
}

/** Rows of a matrix as arrays (what summariseReference takes), at most `limit` evenly spaced. */
export function sampledRows(m: Matrix, limit: number): number[][] {
  const step = Math.max(1, m.rows / limit);
  const out: number[][] = [];
  for (let i = 0; Math.floor(i) < m.rows; i += step) {
    const r = Math.floor(i);
    out.push(Array.from(m.data.subarray(r * m.cols, (r + 1) * m.cols)));
  }
  return out;
}
