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
import { assertValidMatrix, trendAllowance, type Matrix } from './matrix.js';
import { fitPca, scorePca, type PcaModel, type PcaOptions } from './pca.js';
import type { RawScores } from './raw-scores.js';

export type DetectorKind = 'pca' | 'iforest' | 'autoencoder';
export const DETECTOR_KINDS: readonly DetectorKind[] = ['pca', 'iforest', 'autoencoder'];
export type BaseModel = PcaModel | IsolationForestModel | AutoencoderModel;

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
}

export interface FittedDetector {
  format: 'telltale.multivariate/1';
  kind: DetectorKind;
  featureNames: string[];
  inputWindow: number;
  scoreWindow: number;
  model: BaseModel;
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
      return scorePca(model, rows);
    case 'iforest':
      return scoreIsolationForest(model, rows, withContributions);
    case 'autoencoder':
      return scoreAutoencoder(model, rows);
  }
}

function fitBase(train: Matrix, options: DetectorOptions, names: readonly string[]): BaseModel {
  const horizon = options.driftHorizon ?? 0;
  if (!(horizon >= 0)) throw new InvalidInputError('bad-option', `driftHorizon must be 0 or more, got ${horizon}`);
  const scaleAllowance = horizon > 0 ? trendAllowance(train, horizon) : undefined;
  switch (options.detector) {
    case 'pca':
      return fitPca(train, { scaleAllowance, ...options.pca }, names);
    case 'iforest':
      return fitIsolationForest(train, options.iforest);
    case 'autoencoder':
      return fitAutoencoder(train, { scaleAllowance, ...options.autoencoder }, names);
    default:
      throw new InvalidInputError('bad-option', `unknown detector ${String(options.detector)}; use one of ${DETECTOR_KINDS.join(', ')}`);
  }
}

function resolveNames(options: DetectorOptions, cols: number): string[] {
  const names = options.featureNames ?? Array.from({ length: cols }, (_, i) => `f${i}`);
  if (names.length !== cols) throw new InvalidInputError('feature-count', `${names.length} feature names given for ${cols} columns`);
  return [...names];
}

/** Fits a detector on normal rows (time order matters only when windows are used). */
export function fitDetector(train: Matrix, options: DetectorOptions): FittedDetector {
  const started = performance.now();
  assertValidMatrix(train, { minRows: MIN_TRAINING_ROWS });
  const featureNames = resolveNames(options, train.cols);
  const inputWindow = windowOption(options.inputWindow, 'inputWindow');
  const scoreWindow = windowOption(options.scoreWindow, 'scoreWindow');
  const inputs = trailingMeanRows(train, inputWindow);
  const model = fitBase(inputs, options, featureNames);
  const trainingRaw = trailingMean(rawScores(model, inputs, false).raw, scoreWindow);
  const calibration = fitCalibrator(trainingRaw, options);
  const seconds = (performance.now() - started) / 1000;
  return { format: 'telltale.multivariate/1', kind: model.kind, featureNames, inputWindow, scoreWindow, model, calibration, training: { rows: train.rows, seconds } };
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
  const inputs = trailingMeanRows(rows, detector.inputWindow, state.rows);
  const base = rawScores(detector.model, inputs);
  const raw = trailingMean(base.raw, detector.scoreWindow, state.raw);
  const { scores, labels } = calibrateAll(detector.calibration, raw);
  return {
    scores,
    labels,
    raw,
    contributions: contributionShares(base.contributions, rows.cols),
    state: nextCausalState(state, rows, base.raw, detector.inputWindow - 1, detector.scoreWindow - 1),
  };
}
