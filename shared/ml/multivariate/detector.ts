/**
 * The multivariate detector as users see it: one of three model families, optional causal smoothing
 * of inputs and score, and a calibrated threshold. `fitDetector` returns plain JSON; `scoreDetector`
 * gives each row a [0, 1] score, a label and per-feature contribution shares.
 */
import { calibrateAll, fitCalibrator, type CalibrationOptions, type Calibrator } from '../calibration.js';
import { fitAutoencoder, scoreAutoencoder, type AutoencoderModel, type AutoencoderOptions } from './autoencoder.js';
import { emptyCausalState, nextCausalState, trailingMean, trailingMeanRows, type CausalState } from './causal.js';
import { InvalidInputError } from './errors.js';
import { fitIsolationForest, scoreIsolationForest, type IsolationForestModel, type IsolationForestOptions } from './isolation-forest.js';
import { assertValidMatrix, columnStats, sliceRows, trendAllowance, type Matrix } from './matrix.js';
import { fitMset, scoreMset, type MsetModel, type MsetOptions } from './mset.js';
import { fitPca, scorePca, type PcaModel, type PcaOptions } from './pca.js';
import type { RawScores } from './raw-scores.js';

export type DetectorKind = 'pca' | 'iforest' | 'autoencoder' | 'mset';
export const DETECTOR_KINDS: readonly DetectorKind[] = ['pca', 'iforest', 'autoencoder', 'mset'];
export type BaseModel = PcaModel | IsolationForestModel | AutoencoderModel | MsetModel;

export interface DetectorOptions extends CalibrationOptions {
  detector: DetectorKind;
  /** Names of the columns, in order; default f0, f1, ... */
  featureNames?: string[];
  /** Trailing mean of the inputs over this many rows before the model (1 = off). Damps sensor noise. */
  inputWindow?: number;
  /** Trailing mean of the raw score over this many rows (1 = off). A fault persists, noise does not. */
  scoreWindow?: number;
  /**
   * Rows ahead over which a feature's training trend is allowed to continue before it counts as
   * anomalous (0 = off). Widens the scale of slowly drifting sensors; see trendAllowance.
   */
  driftHorizon?: number;
  pca?: PcaOptions;
  iforest?: IsolationForestOptions;
  autoencoder?: AutoencoderOptions;
  mset?: MsetOptions;
  /**
   * Calibrate the threshold on out-of-fold training scores: the training rows are cut into this many
   * contiguous blocks and each block is scored by a model fitted on the others (1 = in-sample scores).
   * Default 5 for mset, which memorises its training states, and 1 for the other families.
   */
  calibrationFolds?: number;
  /**
   * Drift-robust input for slow features (off by default). A feature whose training rows are smooth
   * (von Neumann roughness sqrt(mean squared step / 2 variance) below `maxRoughness`, default 0.5:
   * white noise is 1, a slowly drifting temperature is near 0) enters the model as its change over
   * the last `lag` rows (default 60) instead of its level, so slow drift away from the training level
   * is not an alarm while a fast excursion still is. Decided on the training rows, no labels; causal.
   */
  slowFeatures?: boolean | { maxRoughness?: number; lag?: number };
}

/** The slow features a detector differences, and over how many rows. */
export interface SlowFeatureTransform {
  features: number[];
  lag: number;
}

export interface FittedDetector {
  format: 'telltale.multivariate/1';
  kind: DetectorKind;
  featureNames: string[];
  inputWindow: number;
  scoreWindow: number;
  model: BaseModel;
  /** Present when slow features enter as their change over `lag` rows (see DetectorOptions.slowFeatures). */
  slow?: SlowFeatureTransform;
  calibration: Calibrator;
  training: { rows: number; seconds: number };
}

export interface DetectionResult {
  /** Calibrated score in [0, 1]. */
  scores: Float64Array;
  labels: Uint8Array;
  /** The smoothed raw score the label threshold applies to. */
  raw: Float64Array;
  /** rows x features, row-major: each row's contribution shares, summing to 1. */
  contributions: Float64Array;
  /** Pass to the next call to continue the stream (causal windows). */
  state: CausalState;
}

const MIN_TRAINING_ROWS = 10;

function windowOption(v: number | undefined, name: string): number {
  const w = v ?? 1;
  if (!(Number.isInteger(w) && w >= 1 && w <= 10_000)) throw new InvalidInputError('bad-option', `${name} must be an integer from 1 to 10000, got ${v}`);
  return w;
}

/** The family's raw scores of already-transformed rows: the part the ONNX export reproduces. */
export function rawScores(model: BaseModel, rows: Matrix, withContributions = true): RawScores {
  switch (model.kind) {
    case 'pca':
      return scorePca(model, rows, withContributions);
    case 'iforest':
      return scoreIsolationForest(model, rows, withContributions);
    case 'autoencoder':
      return scoreAutoencoder(model, rows);
    case 'mset':
      return scoreMset(model, rows);
  }
}

function fitBase(train: Matrix, options: DetectorOptions): BaseModel {
  const horizon = options.driftHorizon ?? 0;
  if (!(horizon >= 0)) throw new InvalidInputError('bad-option', `driftHorizon must be 0 or more, got ${horizon}`);
  const scaleAllowance = horizon > 0 ? trendAllowance(train, horizon) : undefined;
  switch (options.detector) {
    case 'pca':
      return fitPca(train, { scaleAllowance, ...options.pca });
    case 'iforest':
      return fitIsolationForest(train, options.iforest);
    case 'autoencoder':
      return fitAutoencoder(train, { scaleAllowance, ...options.autoencoder });
    case 'mset':
      return fitMset(train, { scaleAllowance, ...options.mset });
    default:
      throw new InvalidInputError('bad-option', `unknown detector ${String(options.detector)}; use one of ${DETECTOR_KINDS.join(', ')}`);
  }
}

function resolveNames(options: DetectorOptions, cols: number): string[] {
  const names = options.featureNames ?? Array.from({ length: cols }, (_, i) => `f${i}`);
  if (names.length !== cols) throw new InvalidInputError('feature-count', `${names.length} feature names given for ${cols} columns`);
  return [...names];
}

/** Von Neumann roughness of each column: sqrt(mean squared step / (2 variance)); 1 for white noise, near 0 for slow drift. */
export function roughness(m: Matrix): number[] {
  const { rows, cols, data } = m;
  const { std } = columnStats(m);
  return Array.from({ length: cols }, (_, c) => {
    let steps = 0;
    for (let r = 1; r < rows; r++) steps += (data[r * cols + c] - data[(r - 1) * cols + c]) ** 2;
    const v = std[c] ** 2;
    return rows > 1 && v > 0 ? Math.sqrt(steps / (rows - 1) / (2 * v)) : 1;
  });
}

function slowTransform(train: Matrix, option: DetectorOptions['slowFeatures']): SlowFeatureTransform | undefined {
  if (!option) return undefined;
  const { maxRoughness = 0.5, lag = 60 } = option === true ? {} : option;
  if (!(maxRoughness > 0 && maxRoughness <= 2)) throw new InvalidInputError('bad-option', `slowFeatures.maxRoughness must be in (0, 2], got ${maxRoughness}`);
  if (!(Number.isInteger(lag) && lag >= 1 && lag <= 10_000)) throw new InvalidInputError('bad-option', `slowFeatures.lag must be an integer from 1 to 10000, got ${lag}`);
  const features = roughness(train).flatMap((r, c) => (r < maxRoughness ? [c] : []));
  return features.length > 0 ? { features, lag } : undefined;
}

/**
 * The rows the model (and its ONNX graph) sees: slow features replaced by their change over `lag`
 * rows, then the trailing input mean. `history` holds earlier raw rows (row-major, the stream state);
 * rows before the stream's start count as its first row. Causal: row t uses rows up to t only.
 */
export function transformInputs(rows: Matrix, inputWindow: number, slow: SlowFeatureTransform | undefined, history: readonly number[] = []): Matrix {
  if (!slow) return trailingMeanRows(rows, inputWindow, history);
  const p = rows.cols;
  const past = Math.floor(history.length / p);
  const all = new Float64Array(history.length + rows.data.length);
  all.set(history);
  all.set(rows.data, history.length);
  const diffed = Float64Array.from(all);
  const total = past + rows.rows;
  for (let r = 0; r < total; r++) {
    const from = Math.max(0, r - slow.lag);
    for (const c of slow.features) diffed[r * p + c] = all[r * p + c] - all[from * p + c];
  }
  const batch: Matrix = { rows: rows.rows, cols: p, data: diffed.subarray(past * p) };
  return trailingMeanRows(batch, inputWindow, Array.from(diffed.subarray(Math.max(0, past - (inputWindow - 1)) * p, past * p)));
}

/** The transformed rows a fitted detector scores, continuing from `state` (what an ONNX caller feeds the graph). */
export function detectorInputs(detector: FittedDetector, rows: Matrix, state: CausalState = emptyCausalState()): Matrix {
  return transformInputs(rows, detector.inputWindow, detector.slow, state.rows);
}

/**
 * Raw scores of the training rows, each from a model fitted without the contiguous block holding it.
 * A model that memorises states (MSET) reproduces its own training rows almost exactly, so in-sample
 * scores would put the threshold far below what fresh normal rows reach.
 */
function outOfFoldRaw(inputs: Matrix, options: DetectorOptions, folds: number): Float64Array {
  const out = new Float64Array(inputs.rows);
  const p = inputs.cols;
  for (let k = 0; k < folds; k++) {
    const start = Math.floor((k * inputs.rows) / folds);
    const end = Math.floor(((k + 1) * inputs.rows) / folds);
    const rest = new Float64Array((inputs.rows - (end - start)) * p);
    rest.set(inputs.data.subarray(0, start * p));
    rest.set(inputs.data.subarray(end * p), start * p);
    const model = fitBase({ rows: inputs.rows - (end - start), cols: p, data: rest }, options);
    out.set(rawScores(model, sliceRows(inputs, start, end), false).raw, start);
  }
  return out;
}

/** Fits a detector on normal rows (time order matters only when windows are used). */
export function fitDetector(train: Matrix, options: DetectorOptions): FittedDetector {
  const started = performance.now();
  assertValidMatrix(train, { minRows: MIN_TRAINING_ROWS });
  const featureNames = resolveNames(options, train.cols);
  const inputWindow = windowOption(options.inputWindow, 'inputWindow');
  const scoreWindow = windowOption(options.scoreWindow, 'scoreWindow');
  const slow = slowTransform(train, options.slowFeatures);
  const inputs = transformInputs(train, inputWindow, slow);
  const model = fitBase(inputs, options);
  const folds = options.calibrationFolds ?? (model.kind === 'mset' ? 5 : 1);
  if (!(Number.isInteger(folds) && folds >= 1 && folds <= 20)) throw new InvalidInputError('bad-option', `calibrationFolds must be an integer from 1 to 20, got ${folds}`);
  const baseRaw = folds > 1 ? outOfFoldRaw(inputs, options, folds) : rawScores(model, inputs, false).raw;
  const trainingRaw = trailingMean(baseRaw, scoreWindow);
  const calibration = fitCalibrator(trainingRaw, options);
  const seconds = (performance.now() - started) / 1000;
  return {
    format: 'telltale.multivariate/1',
    kind: model.kind,
    featureNames,
    inputWindow,
    scoreWindow,
    model,
    ...(slow ? { slow } : {}),
    calibration,
    training: { rows: train.rows, seconds },
  };
}

/** Each row's contributions as shares of the row's total, so rows and families compare. */
export function contributionShares(contributions: Float64Array, cols: number): Float64Array {
  const out = new Float64Array(contributions.length);
  for (let o = 0; o < contributions.length; o += cols) {
    let total = 0;
    for (let c = 0; c < cols; c++) total += contributions[o + c];
    for (let c = 0; c < cols; c++) out[o + c] = total > 0 ? contributions[o + c] / total : 1 / cols;
  }
  return out;
}

/** Scores rows in time order; pass the previous result's `state` to continue a stream. */
export function scoreDetector(detector: FittedDetector, rows: Matrix, state: CausalState = emptyCausalState()): DetectionResult {
  assertValidMatrix(rows, { cols: detector.featureNames.length });
  const inputs = detectorInputs(detector, rows, state);
  const base = rawScores(detector.model, inputs);
  const raw = trailingMean(base.raw, detector.scoreWindow, state.raw);
  const { scores, labels } = calibrateAll(detector.calibration, raw);
  return {
    scores,
    labels,
    raw,
    contributions: contributionShares(base.contributions, rows.cols),
    state: nextCausalState(state, rows, base.raw, detector.inputWindow - 1 + (detector.slow?.lag ?? 0), detector.scoreWindow - 1),
  };
}
