import { getReadyDataset } from '../../data/registry/datasets.js';
/**
 * POST /ml/detect with `dataset: { id }`: the caller's READY dataset is streamed from its processed
 * CSV with the data context's table reader, within the same bounds as inline data, then scored by
 * the same code as a series or a matrix.
 */
import type { ByteSource } from '../../data/byte-source.js';
import type { DatasetSchema } from '../../data/dataset-schema.js';
import type { DatasetObjects, DatasetRepository } from '../../data/registry/datasetRepository.js';
import { openTable } from '../../data/table-reader.js';
import { UnprocessableError, ValidationError } from '../../platform/errors.js';
import { defaultFeatures, labelFeatures } from '../features.js';
import type { Matrix } from '../multivariate/matrix.js';
import { ML_LIMITS, type DatasetInput, type DetectResponse } from './contract.js';
import { detectInMatrix, detectInSeries, type DetectSettings } from './detect.js';
import { withHttpErrors } from './errors.js';
import { isoOf } from './timestamps.js';

export interface DetectDatasetDeps {
  datasets: Pick<DatasetRepository, 'get'>;
  objects: Pick<DatasetObjects, 'read'>;
}

export interface DetectionRows {
  features: string[];
  /** Epoch ms per row, strictly increasing. */
  times: number[];
  matrix: Matrix;
  /** Rows left out because the timestamp or a chosen feature was missing. */
  droppedRows: number;
}

const tooLarge = (id: string, rows: number, cols: number) =>
  new UnprocessableError(
    `Dataset "${id}" has more than ${rows.toLocaleString('en')} usable rows of ${cols} feature(s), more than one request may score ` +
      `(${ML_LIMITS.points.toLocaleString('en')} points, ${ML_LIMITS.cells.toLocaleString('en')} values). Train a model on it (POST /api/v1/ml/train) ` +
      'and score with POST /api/v1/ml/predict instead, or detect on its first rows with dataset.limit or on fewer dataset.features.',
    { code: 'dataset_too_large', maxPoints: ML_LIMITS.points, maxCells: ML_LIMITS.cells },
  );

/**
 * Streams the processed CSV into timestamps and a matrix of the chosen features. Stops after
 * `maxRows` usable rows: with `truncate` the rest is ignored, otherwise one more row is a refusal,
 * so memory stays bounded whatever the dataset's size.
 */
export async function readDetectionRows(
  source: ByteSource,
  columns: { datasetId: string; schema?: DatasetSchema; features?: readonly string[] },
  bounds: { maxRows: number; truncate: boolean },
): Promise<DetectionRows> {
  const unknownFeatures = (known: readonly string[]) => {
    const missing = (columns.features ?? []).filter((f) => !known.includes(f));
    if (missing.length === 0) return;
    const names = missing.map((m) => JSON.stringify(m)).join(', ');
    throw new ValidationError(`Dataset "${columns.datasetId}" has no sensor column ${names} (its sensor columns: ${known.join(', ')}).`, [
      { pointer: 'body.dataset.features', message: `Unknown column ${names}` },
    ]);
  };
  const labels = labelFeatures(columns.features ?? [], columns.schema?.labelColumn);
  if (labels.length > 0) {
    const names = labels.map((m) => JSON.stringify(m)).join(', ');
    throw new ValidationError(`${names} ${labels.length === 1 ? 'is a label column' : 'are label columns'} of dataset "${columns.datasetId}"; labels are never features.`, [
      { pointer: 'body.dataset.features', message: `Label column ${names}` },
    ]);
  }
  // The record's schema names the sensor columns: check the request against it before reading anything.
  if (columns.schema) unknownFeatures(columns.schema.sensorColumns.map((c) => c.name));
  const declared: DatasetSchema | undefined = columns.schema && {
    format: 'csv',
    timestampColumn: columns.schema.timestampColumn,
    sensorColumns: (columns.features ?? defaultFeatures(columns.schema)).map((name) => ({ name })),
  };
  const table = await openTable(source, { schema: declared });
  const sensors = table.layout.schema.sensorColumns.map((c) => c.name);
  unknownFeatures(sensors);
  const features = columns.features ? [...columns.features] : defaultFeatures(table.layout.schema);
  const cols = features.length;
  const index = features.map((f) => sensors.indexOf(f));
  const data = new Float64Array(bounds.maxRows * cols);
  const times: number[] = [];
  let droppedRows = 0;
  reading: for await (const batch of table.batches()) {
    for (let k = 0; k < batch.count; k++) {
      const time = batch.time[k];
      let usable = Number.isFinite(time);
      for (let c = 0; c < cols && usable; c++) usable = Number.isFinite(batch.values[index[c]][k]);
      if (!usable) {
        droppedRows++;
        continue;
      }
      if (times.length === bounds.maxRows) {
        if (bounds.truncate) break reading;
        throw tooLarge(columns.datasetId, bounds.maxRows, cols);
      }
      if (times.length > 0 && time <= times[times.length - 1]) {
        throw new UnprocessableError(`Dataset "${columns.datasetId}" has timestamps that do not strictly increase (line ${batch.line[k]} of its processed file).`);
      }
      for (let c = 0; c < cols; c++) data[times.length * cols + c] = batch.values[index[c]][k];
      times.push(time);
    }
  }
  if (times.length === 0) throw new UnprocessableError(`Dataset "${columns.datasetId}" has no row with a timestamp and every chosen feature present (${droppedRows} rows dropped).`);
  return { features, times, matrix: { rows: times.length, cols, data: data.slice(0, times.length * cols) }, droppedRows };
}

/** A series when one feature is chosen (or the streaming detector asked for), a matrix otherwise. */
function isSeries(request: DetectSettings, features: readonly string[]): boolean {
  return request.detector === 'streaming' || (request.detector === undefined && features.length === 1);
}


/**
 * Detects anomalies in a stored dataset.
 * Primary course: the caller's dataset is READY; its processed CSV is streamed (the chosen features,
 * rows with one missing left out, at most `limit` rows) and scored like an inline series (one
 * feature) or matrix (several), with which rows were read.
 * Alternatives: no such dataset (or another tenant's), 404; not READY, 409 with its status; more
 * rows or values than a request may score, 422 pointing to train and predict.
 */
export async function detectInDataset(deps: DetectDatasetDeps, tenant: string, input: DatasetInput, request: DetectSettings): Promise<DetectResponse> {
  const dataset = await getReadyDataset(deps.datasets, tenant, input.id, 'detect');
  const width = input.features?.length ?? dataset.schema?.sensorColumns.length ?? 1;
  const cellRows = Math.floor(ML_LIMITS.cells / width);
  if (input.limit !== undefined && input.limit > cellRows) {
    throw new ValidationError(`dataset.limit ${input.limit} x ${width} features is more than ${ML_LIMITS.cells.toLocaleString('en')} values`, [
      { pointer: 'body.dataset.limit', message: `At most ${cellRows} rows for ${width} features` },
    ]);
  }
  const maxRows = Math.min(input.limit ?? ML_LIMITS.points, cellRows);
  const source = await deps.objects.read(dataset.processedKey);
  const rows = await readDetectionRows(source, { datasetId: dataset.id, schema: dataset.schema, features: input.features }, { maxRows, truncate: input.limit !== undefined });

  const series = isSeries(request, rows.features);
  if (series && rows.features.length !== 1) {
    throw new ValidationError(`The streaming detector takes one feature; name it in dataset.features (one of ${rows.features.join(', ')})`, [{ pointer: 'body.dataset.features', message: 'Name one feature' }]);
  }
  if (!series && request.period !== undefined) throw new ValidationError('period applies to a series only', [{ pointer: 'body.period', message: 'period applies to a series (one feature) only' }]);
  if (series && request.options !== undefined) throw new ValidationError('options apply to a matrix only', [{ pointer: 'body.options', message: 'options apply to a matrix (several features) only' }]);
  // Only when the schema was unknown could the width guessed above be too small.
  if (rows.matrix.rows * rows.features.length > ML_LIMITS.cells) throw tooLarge(dataset.id, Math.floor(ML_LIMITS.cells / rows.features.length), rows.features.length);
  if (request.trainRows !== undefined && request.trainRows > rows.matrix.rows) {
    throw new ValidationError(`Only ${rows.matrix.rows} usable rows were read from dataset "${dataset.id}"`, [{ pointer: 'body.trainRows', message: `At most ${rows.matrix.rows}` }]);
  }
  const result = withHttpErrors(() =>
    series ? detectInSeries(request, rows.times, Array.from(rows.matrix.data), rows.features[0]) : detectInMatrix(request, rows.times, rows.features, rows.matrix),
  );
  const last = rows.times.length - 1;
  return { ...result, dataset: { id: dataset.id, rows: rows.matrix.rows, droppedRows: rows.droppedRows, from: isoOf(rows.times[0]), to: isoOf(rows.times[last]) } };
}
