import { getReadyDataset } from '../../data/registry/datasets.js';
/**
 * POST /ml/evaluate with `{ modelId, datasetId }`: a registered model scored on the caller's READY,
 * labelled dataset exactly as predict scores rows (the same loader, session cache and ONNX
 * scoring), measured with the same metrics as inline data, and stored with the model.
 */
import type { Dataset } from '../../data/registry/dataset.js';
import type { DatasetObjects, DatasetRepository } from '../../data/registry/datasetRepository.js';
import { UnprocessableError } from '../../platform/errors.js';
import { canonicalDetectorName } from '../detectors.js';
import type { Matrix } from '../multivariate/matrix.js';
import { evaluationId, storeEvaluation } from '../registry/evaluation.js';
import type { ModelArtifacts, ModelRepository } from '../registry/modelRepository.js';
import { scoreLoadedModel, type LoadedModel, type ModelLoader } from '../registry/prediction.js';
import { readTrainingTable, type TrainingTable } from '../registry/trainingData.js';
import { confirmedWindows, insideConfirmed, type VerdictLabelStore } from '../registry/verdictLabels.js';
import { MAX_EVALUATION_ROWS, type EvaluateResponse, type ModelEvaluateRequest, type ModelEvaluation } from './contract.js';
import { evaluationMetrics } from './evaluate.js';

export interface EvaluateModelDeps {
  datasets: Pick<DatasetRepository, 'get'>;
  objects: Pick<DatasetObjects, 'read'>;
  models: Pick<ModelRepository, 'getVersion' | 'update'>;
  artifacts: Pick<ModelArtifacts, 'put'>;
  /** Create it at module scope: its sessions are the container's cache, shared with nothing else. */
  loader: ModelLoader;
  /** The operators' verdicts the ml context keeps (anomaly.reviewed), for labelsFrom verdicts. */
  verdicts?: Pick<VerdictLabelStore, 'list'>;
  now?: () => Date;
}



const tooLarge = (datasetId: string, cols: number) =>
  new UnprocessableError(
    `Dataset "${datasetId}" has more than ${MAX_EVALUATION_ROWS.toLocaleString('en')} rows of ${cols} feature(s); an evaluation reads at most ` +
      `${MAX_EVALUATION_ROWS.toLocaleString('en')} rows of the processed file. Evaluate on a smaller labelled dataset.`,
    { code: 'dataset_too_large', maxRows: MAX_EVALUATION_ROWS },
  );

/** The label column's name in results and ids when the truth is the operators' verdicts. */
const VERDICTS = 'verdicts';

/** The dataset's columns the model takes, and the label column (none for verdicts): checked against the schema before anything is read. */
function columnsOf(dataset: Dataset, model: LoadedModel, request: Pick<ModelEvaluateRequest, 'labelColumn' | 'labelsFrom'>): { timestampColumn: string; features: string[]; labelColumn?: string } {
  const schema = dataset.schema;
  if (!schema) throw new UnprocessableError(`Dataset "${dataset.id}" has no recorded schema; register it again with its columns declared.`);
  const byVerdicts = request.labelsFrom === 'verdicts';
  const labelColumn = byVerdicts ? undefined : (request.labelColumn ?? schema.labelColumn);
  if (!labelColumn && !byVerdicts) {
    throw new UnprocessableError(`Dataset "${dataset.id}" has no label column: declare labelColumn in its schema, or name the column of 0/1 labels in labelColumn.`, { code: 'no_label_column' });
  }
  const features = [...model.manifest.features];
  const sensors = schema.sensorColumns.map((c) => c.name);
  const missing = features.filter((f) => !sensors.includes(f));
  if (missing.length > 0) {
    const names = missing.map((m) => JSON.stringify(m)).join(', ');
    throw new UnprocessableError(`Dataset "${dataset.id}" has no column ${names}, which model "${model.id}" takes (its sensor columns: ${sensors.join(', ')}).`, {
      code: 'missing_column',
      missing,
    });
  }
  if (labelColumn === undefined) return { timestampColumn: schema.timestampColumn, features };
  if (features.includes(labelColumn) || labelColumn === schema.timestampColumn) {
    throw new UnprocessableError(`The label column "${labelColumn}" is ${labelColumn === schema.timestampColumn ? 'the timestamp column' : 'a feature of the model'}; name the column of 0/1 labels.`);
  }
  return { timestampColumn: schema.timestampColumn, features, labelColumn };
}

/** The processed CSV through the training reader, refusing more rows than an evaluation reads. */
async function readLabelledTable(deps: EvaluateModelDeps, dataset: Dataset & { processedKey: string }, columns: ReturnType<typeof columnsOf>): Promise<TrainingTable> {
  const cols = columns.features.length;
  try {
    return await readTrainingTable(await deps.objects.read(dataset.processedKey), columns, MAX_EVALUATION_ROWS * cols);
  } catch (error) {
    // The reader's own bound speaks of training; say it for an evaluation.
    if (error instanceof UnprocessableError && /more than \d+ usable rows/.test(error.message)) throw tooLarge(dataset.id, cols);
    throw error;
  }
}

/** 1 where a row's time falls inside an anomaly an operator confirmed on one of the model's sensors, else 0. */
async function verdictLabels(deps: EvaluateModelDeps, tenant: string, table: TrainingTable): Promise<Float64Array> {
  if (!deps.verdicts) throw new Error('evaluating against verdicts needs the verdict labels port');
  return Float64Array.from(insideConfirmed(table.times, await confirmedWindows(deps.verdicts, tenant, table.features)));
}

const rowsOf = (m: Matrix, from: number, to: number): Matrix => ({ rows: to - from, cols: m.cols, data: m.data.slice(from * m.cols, to * m.cols) });

/**
 * Evaluates a model on a labelled dataset.
 * Primary course: the model (any READY version of yours) is loaded as predict loads it; the
 * caller's READY dataset is streamed from its processed CSV, the model's features picked by name
 * with the label column (the schema's unless named), or, with labelsFrom verdicts, labelled by the
 * operators' verdicts on the model's sensors (the ml context's copy of anomaly.reviewed, matched on
 * the rows' times); rows [fromRow, toRow) are scored as one fresh
 * stream, exactly as predict scores them; the rows labelled 0 or 1 give precision, recall, F1,
 * FAR, MAR, ROC and PR AUC, the confusion matrix and the event-window score. The result is written
 * beside the model version, and its summary is the model's lastEvaluation.
 * Alternatives: unknown or another tenant's model or dataset, 404; model or dataset not READY, 409
 * (the dataset's status in `datasetStatus`); no label column, a feature the dataset lacks, more
 * than MAX_EVALUATION_ROWS rows, an empty range or no labelled row, 422. A baseline model of the
 * layer is evaluated but not stored (it belongs to no tenant).
 */
export async function evaluateModelOnDataset(deps: EvaluateModelDeps, tenant: string, request: ModelEvaluateRequest): Promise<EvaluateResponse> {
  const model = await deps.loader.load(tenant, request.modelId, request.version);
  const dataset = await getReadyDataset(deps.datasets, tenant, request.datasetId, 'evaluate');
  const columns = columnsOf(dataset, model, request);
  const table = await readLabelledTable(deps, dataset, columns);
  const labelColumn = columns.labelColumn ?? VERDICTS;
  const labels = columns.labelColumn === undefined ? await verdictLabels(deps, tenant, table) : table.labels;
  if (!labels) throw new UnprocessableError(`Dataset "${dataset.id}" has no label column "${labelColumn}".`, { code: 'no_label_column' });

  const total = table.matrix.rows;
  const fromRow = request.fromRow ?? 0;
  if (fromRow >= total) throw new UnprocessableError(`fromRow is ${fromRow} but dataset "${dataset.id}" has ${total} usable rows.`);
  const toRow = Math.min(request.toRow ?? total, total);
  const rows = rowsOf(table.matrix, fromRow, toRow);

  const { scored, threshold } = await scoreLoadedModel(model, rows);

  // Rows whose label is not 0 or 1 are scored (the stream stays whole) but left out of the metrics.
  const truth: number[] = [];
  const predicted: number[] = [];
  const scores: number[] = [];
  for (let r = 0; r < rows.rows; r++) {
    const label = labels[fromRow + r];
    if (label !== 0 && label !== 1) continue;
    truth.push(label);
    predicted.push(scored.labels[r]);
    scores.push(scored.scores[r]);
  }
  if (truth.length === 0) throw new UnprocessableError(`No row of dataset "${dataset.id}" in [${fromRow}, ${toRow}) has a label of 0 or 1 in "${labelColumn}".`, { code: 'no_labels' });

  const metrics = evaluationMetrics({ truth, predicted, scores, threshold, profile: request.profile });
  // Verdicts change as operators judge: their evaluation has an id of its own (no column is named with a NUL).
  const id = evaluationId({ modelId: model.id, version: model.version, datasetId: dataset.id, fromRow, toRow, labelColumn: columns.labelColumn ?? `\u0000${VERDICTS}` });
  const evaluatedAt = (deps.now?.() ?? new Date()).toISOString();
  const result: ModelEvaluation = {
    ...metrics,
    evaluationId: id,
    evaluatedAt,
    model: { id: model.id, version: model.version, detector: canonicalDetectorName(model.manifest.detector), source: model.source },
    dataset: {
      id: dataset.id,
      labelColumn,
      labelsFrom: columns.labelColumn === undefined ? 'verdicts' : 'column',
      fromRow,
      toRow,
      droppedRows: table.droppedRows,
      unlabelledRows: rows.rows - truth.length,
      anomalies: metrics.confusion.tp + metrics.confusion.fn,
    },
  };
  if (model.source === 'layer') return { ...result, stored: null };
  const summary = {
    id,
    datasetId: dataset.id,
    at: evaluatedAt,
    f1: metrics.f1,
    far: metrics.falseAlarmRate,
    mar: metrics.missedAlarmRate,
    rocAuc: metrics.rocAuc,
    eventWindowScore: metrics.eventWindow.score,
  };
  const stored = await storeEvaluation(deps, tenant, { modelId: model.id, version: model.version }, summary, result);
  return { ...result, stored };
}
