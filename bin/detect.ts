import { scoreSeries, type DetectMode } from '../shared/ml/api/detect.js';
import { calibrationTails, type CalibrationTail } from '../shared/ml/calibration.js';
import { defaultDetectorName, deprecatedDetectorNames, detectorNames, multivariateDetectors, multivariateKinds, resolveDetectorOptions, type DetectorName, type MultivariateDetectorName } from '../shared/ml/detectors.js';
import { labelFeatures } from '../shared/ml/features.js';
import { featureTable, readCsv, writeCsv, type CsvFile, type FeatureTable } from './csv.js';
import { scoreCsvFile } from './detect-stream.js';
import { defaultWorkers } from './score-pool.js';
import { CliError, usageError } from './errors.js';
import { choiceOption, listOption, numberOption, optionalString, required, type Values } from './options.js';

/** The options of fitting a detector on a CSV, shared by detect and train. */
export const fitOptions = {
  input: { type: 'string' },
  output: { type: 'string' },
  detector: { type: 'string' },
  'train-rows': { type: 'string' },
  sensitivity: { type: 'string' },
  features: { type: 'string' },
  ignore: { type: 'string' },
  'input-window': { type: 'string' },
  'score-window': { type: 'string' },
  'drift-horizon': { type: 'string' },
  far: { type: 'string' },
  'slow-features': { type: 'boolean' },
  'calibration-folds': { type: 'string' },
  tail: { type: 'string' },
} as const;

export const detectOptions = { ...fitOptions, mode: { type: 'string' }, train: { type: 'string' }, workers: { type: 'string' } } as const;

/** The detector options a command line sets; those it leaves out take the defaults. */
export function windowOptions(values: Values) {
  return {
    inputWindow: numberOption(values, 'input-window', 1, 10_000, true),
    scoreWindow: numberOption(values, 'score-window', 1, 10_000, true),
    driftHorizon: numberOption(values, 'drift-horizon', 0, 10_000_000, true),
    targetFalseAlarmRate: numberOption(values, 'far', 1e-9, 0.5),
    slowFeatures: values['slow-features'] === true || undefined,
    calibrationFolds: numberOption(values, 'calibration-folds', 1, 20, true),
    tail: values.tail === undefined ? undefined : choiceOption<CalibrationTail>(values, 'tail', calibrationTails, 'exponential'),
  };
}

export interface ScoredRows {
  scores: ArrayLike<number>;
  labels: ArrayLike<number | boolean>;
  trainRows: number;
  scoredFrom: number;
}

/** The input's anomaly labels: the first column named like a label whose cells are all 0 or 1. */
export interface RowLabels {
  column: string;
  anomalous: Uint8Array;
}

function rowLabels(csv: CsvFile, labels: readonly string[]): RowLabels | undefined {
  for (const column of labels) {
    const c = csv.header.indexOf(column);
    const values = csv.rows.map((row) => Number(row[c].trim()));
    if (values.every((v) => v === 0 || v === 1)) return { column, anomalous: Uint8Array.from(values) };
  }
  return undefined;
}

/**
 * Reads the input (and training) CSV the way every command does: same feature selection, training
 * features matched by name. Columns named like labels (anomaly, changepoint, ...) are never features.
 */
export function readTables(values: Values, warn: (m: string) => void): { input: FeatureTable; train?: FeatureTable; labels?: RowLabels } {
  const csv = readCsv(required(values, 'input'));
  const features = listOption(values, 'features');
  const named = labelFeatures(features ?? [], undefined);
  if (named.length > 0) throw usageError(`${named.join(', ')}: label columns are never features; leave them out of --features`);
  const labels = labelFeatures(csv.header.slice(1), undefined);
  if (!features && labels.length > 0) warn(`leaving out label column(s) ${labels.join(', ')}: labels are never features`);
  const input = featureTable(csv, { features, ignore: [...new Set([...(listOption(values, 'ignore') ?? []), ...labels])] }, warn);
  const trainPath = optionalString(values, 'train');
  const train = trainPath ? featureTable(readCsv(trainPath), { features: input.featureNames }) : undefined;
  const anomalyLabels = rowLabels(csv, labels);
  return { input, train, ...(anomalyLabels ? { labels: anomalyLabels } : {}) };
}

/**
 * telltale detect: scores every input row with the chosen detector and writes timestamp,score,label in
 * input order. A multivariate detector is fitted on the leading rows, then the file is scored as a
 * stream of chunks on worker threads (scoreCsvFile); the streaming detector reads the whole series.
 */
export async function runDetect(values: Values, log: (m: string) => void): Promise<void> {
  const output = required(values, 'output');
  const detector = choiceOption<DetectorName>(values, 'detector', detectorNames, defaultDetectorName, deprecatedDetectorNames);
  const mode = choiceOption<DetectMode>(values, 'mode', ['batch', 'streaming'], 'batch');
  const sensitivity = numberOption(values, 'sensitivity', 0, 100);
  const trainRows = numberOption(values, 'train-rows', detector === 'streaming' ? 16 : 10, Number.MAX_SAFE_INTEGER, true);
  if (trainRows !== undefined && values.train !== undefined) throw usageError('give --train-rows or --train, not both');
  if (detector !== 'streaming') {
    // No --detector: the defaults (the options given over them); a named one: its plain settings and the options given.
    const options = resolveDetectorOptions(values.detector === undefined ? undefined : multivariateKinds[detector as MultivariateDetectorName], { sensitivity, ...windowOptions(values) });
    const threads = numberOption(values, 'workers', 1, 256, true) ?? defaultWorkers();
    const summary = await scoreCsvFile(values, { options, mode, trainRows, threads, output }, log);
    log(`${detector} (${mode}) on ${summary.featureNames.length} feature(s) [${summary.featureNames.join(', ')}], fitted on ${summary.fitted}: ${summary.labelled} of ${summary.rows} rows labelled -> ${output}`);
    return;
  }
  const { input, train } = readTables(values, log);
  if (trainRows !== undefined && trainRows > input.matrix.rows) throw new CliError(`--train-rows ${trainRows} is more than the ${input.matrix.rows} rows of the input`);
  const scored = scoreUnivariate(input, train, { mode, sensitivity: sensitivity ?? 50, trainRows });
  writeCsv(
    output,
    ['timestamp', 'score', 'label'],
    input.timestamps.map((t, i) => [t, scored.scores[i].toFixed(6), scored.labels[i] ? '1' : '0']),
  );
  let labelled = 0;
  for (let i = 0; i < input.timestamps.length; i++) if (scored.labels[i]) labelled++;
  const fitted = train ? `${train.matrix.rows} rows of ${optionalString(values, 'train')}` : `the first ${scored.trainRows} rows`;
  log(`${detector} (${mode}) on 1 feature(s) [${input.featureNames.join(', ')}], fitted on ${fitted}: ${labelled} of ${input.timestamps.length} rows labelled -> ${output}`);
}

/** The streaming detector takes one feature; a training file is its warm-up, replayed before the input. */
function scoreUnivariate(input: FeatureTable, train: FeatureTable | undefined, s: { mode: DetectMode; sensitivity: number; trainRows?: number }): ScoredRows {
  if (input.featureNames.length !== 1) {
    throw usageError(`the streaming detector scores one feature, the input has ${input.featureNames.length} (${input.featureNames.join(', ')}); pick one with --features, or use ${multivariateDetectors.join(', ')}`);
  }
  const before = train ? Array.from(train.matrix.data) : [];
  const values = [...before, ...input.matrix.data];
  const result = scoreSeries(values, { mode: train ? 'streaming' : s.mode, sensitivity: s.sensitivity, trainRows: train ? before.length : s.trainRows });
  const points = result.points.slice(before.length);
  return { scores: points.map((p) => p.score), labels: points.map((p) => p.label), trainRows: result.trainRows, scoredFrom: Math.max(0, result.scoredFrom - before.length) };
}
