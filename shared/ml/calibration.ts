/**
 * Turns a detector's raw score (any positive scale) into a calibrated score in [0, 1] and a label.
 *
 * The score is the rarity of a raw value among the training rows: p = P(raw >= x | normal), read from
 * the empirical distribution of training scores, with an exponential tail (peaks over threshold,
 * shape 0) fitted to the top `tailMass` so that rarities beyond what the training set can show
 * (1 in 10,000 from 400 rows) are extrapolated rather than clipped. score = -log10(p) / 6, so 0.5
 * means "1 in 1,000 normal rows is this extreme" and 1 means "1 in a million or rarer"; the same
 * score means the same rarity on every model, which is what lets one threshold serve them all.
 *
 * With `tail: 'gpd'` the tail is a generalized Pareto (peaks over threshold, shape fitted by
 * probability-weighted moments and held in [0, 0.5]): a heavier tail than the exponential when the
 * training excesses say so, so the threshold for a rare target rate is not set too low. The shape is
 * never negative: a bounded tail would declare values past the training maximum impossible.
 */
import { InvalidInputError } from './multivariate/errors.js';

/** Fitted calibration: plain JSON. */
export interface Calibrator {
  /** Training scores at probabilities i / (grid - 1), ascending. */
  grid: number[];
  /** Start of the exponential tail (training quantile at 1 - tailMass). */
  tailStart: number;
  tailMass: number;
  /** Scale of the tail over tailStart (the mean excess for the exponential tail). */
  tailScale: number;
  /** Generalized Pareto shape of the tail; 0 (or absent, in models fitted before it) is the exponential tail. */
  tailShape?: number;
  /** Target false-alarm rate: the share of normal rows that should be labelled anomalous. */
  falseAlarmRate: number;
  /** Raw score at and above which a row is labelled anomalous. */
  rawThreshold: number;
  /** The same threshold on the [0, 1] scale. */
  threshold: number;
}

export interface CalibrationOptions {
  /** Share of normal rows allowed to raise an alarm, in (0, 0.5]. */
  targetFalseAlarmRate?: number;
  /** 0 (fewest alarms) to 100 (most), as Azure Anomaly Detector offered; used when no rate is given. */
  sensitivity?: number;
  tailMass?: number;
  /** Tail model beyond the training quantile: 'exponential' (shape 0) or 'gpd' (shape fitted, >= 0). */
  tail?: CalibrationTail;
}

export const calibrationTails = ['exponential', 'gpd'] as const;
export type CalibrationTail = (typeof calibrationTails)[number];

/** Largest generalized Pareto shape the fit may take: beyond it a few training excesses would set the threshold. */
const MAX_TAIL_SHAPE = 0.5;

const GRID_POINTS = 201;
/** -log10 of the rarest probability the [0, 1] scale distinguishes (1 in a million). */
const RARITY_DECADES = 6;
const DEFAULT_FALSE_ALARM_RATE = 0.01;

/** Sensitivity 0..100 to a false-alarm rate from 1e-4 (0) to 0.1 (100), log-linear, so each 33 points is 10x. */
export function sensitivityToFalseAlarmRate(sensitivity: number): number {
  if (!(sensitivity >= 0 && sensitivity <= 100)) {
    throw new InvalidInputError('bad-option', `sensitivity must be between 0 and 100, got ${sensitivity}`);
  }
  return 10 ** (-4 + (3 * sensitivity) / 100);
}

function resolveFalseAlarmRate(options: CalibrationOptions): number {
  if (options.targetFalseAlarmRate !== undefined) {
    const a = options.targetFalseAlarmRate;
    if (!(a > 0 && a <= 0.5)) throw new InvalidInputError('bad-option', `targetFalseAlarmRate must be in (0, 0.5], got ${a}`);
    return a;
  }
  if (options.sensitivity !== undefined) return sensitivityToFalseAlarmRate(options.sensitivity);
  return DEFAULT_FALSE_ALARM_RATE;
}

/** Fits the calibration on raw scores of normal (training) rows. */
export function fitCalibrator(trainingScores: ArrayLike<number>, options: CalibrationOptions = {}): Calibrator {
  const n = trainingScores.length;
  if (n < 2) throw new InvalidInputError('too-few-rows', `calibration needs at least 2 training scores, got ${n}`);
  const sorted = Float64Array.from(trainingScores).sort();
  const falseAlarmRate = resolveFalseAlarmRate(options);
  const tailMass = options.tailMass ?? Math.min(0.1, Math.max(0.02, 20 / n));
  const grid = Array.from({ length: GRID_POINTS }, (_, i) => quantileOfSorted(sorted, i / (GRID_POINTS - 1)));
  const tailStart = quantileOfSorted(sorted, 1 - tailMass);
  const tailFit = fitTail(sorted, tailStart, grid[GRID_POINTS - 1] - grid[0], options.tail ?? 'exponential');
  const partial = { grid, tailStart, tailMass, ...tailFit };
  const rawThreshold = inverseExceedance(partial, falseAlarmRate);
  return { ...partial, falseAlarmRate, rawThreshold, threshold: rarityToScore(falseAlarmRate) };
}

function quantileOfSorted(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * The tail of the excesses over `start`: exponential (scale = mean excess, its MLE) or generalized
 * Pareto by probability-weighted moments (Hosking & Wallis 1987), shape held in [0, MAX_TAIL_SHAPE]
 * and scale then set so the mean excess is kept. The scale is floored so a flat training tail cannot
 * make every excess infinitely rare.
 */
export function fitTail(sorted: Float64Array, start: number, range: number, tail: CalibrationTail): { tailScale: number; tailShape: number } {
  const excesses: number[] = [];
  for (let i = 0; i < sorted.length; i++) if (sorted[i] > start) excesses.push(sorted[i] - start);
  const n = excesses.length;
  const a0 = n > 0 ? excesses.reduce((a, b) => a + b, 0) / n : 0;
  let shape = 0;
  if (tail === 'gpd' && n >= 3) {
    let a1 = 0;
    for (let j = 0; j < n; j++) a1 += ((n - 1 - j) / (n - 1)) * excesses[j];
    a1 /= n;
    const d = a0 - 2 * a1;
    shape = d > 0 ? Math.min(MAX_TAIL_SHAPE, Math.max(0, 2 - a0 / d)) : MAX_TAIL_SHAPE;
  }
  const floor = Math.max(1e-12, 1e-6 * Math.abs(range), 1e-9 * Math.abs(start));
  return { tailScale: Math.max(a0 * (1 - shape), floor), tailShape: shape };
}

type TailModel = Pick<Calibrator, 'grid' | 'tailStart' | 'tailMass' | 'tailScale' | 'tailShape'>;

/** P(excess >= y) / tailMass of the fitted tail. */
function tailSurvival(cal: TailModel, y: number): number {
  const xi = cal.tailShape ?? 0;
  return xi > 0 ? (1 + (xi * y) / cal.tailScale) ** (-1 / xi) : Math.exp(-y / cal.tailScale);
}

/** P(raw >= x) under the training distribution. */
export function exceedance(cal: TailModel, x: number): number {
  if (x >= cal.tailStart) return cal.tailMass * tailSurvival(cal, x - cal.tailStart);
  const g = cal.grid;
  if (x <= g[0]) return 1;
  let lo = 0;
  let hi = g.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (g[mid] <= x) lo = mid;
    else hi = mid;
  }
  const span = g[hi] - g[lo];
  const frac = span > 0 ? (x - g[lo]) / span : 0;
  const cdf = (lo + frac) / (g.length - 1);
  return Math.max(cal.tailMass, 1 - cdf);
}

function inverseExceedance(cal: TailModel, p: number): number {
  if (p <= cal.tailMass) {
    const xi = cal.tailShape ?? 0;
    return cal.tailStart + (xi > 0 ? (cal.tailScale / xi) * ((cal.tailMass / p) ** xi - 1) : cal.tailScale * Math.log(cal.tailMass / p));
  }
  const pos = (1 - p) * (cal.grid.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(cal.grid.length - 1, lo + 1);
  return cal.grid[lo] + (cal.grid[hi] - cal.grid[lo]) * (pos - lo);
}

/** The same fitted calibration with another target false-alarm rate: no refit, only the threshold moves. */
export function withFalseAlarmRate(cal: Calibrator, falseAlarmRate: number): Calibrator {
  const rate = resolveFalseAlarmRate({ targetFalseAlarmRate: falseAlarmRate });
  return { ...cal, falseAlarmRate: rate, rawThreshold: inverseExceedance(cal, rate), threshold: rarityToScore(rate) };
}

function rarityToScore(p: number): number {
  return Math.min(1, -Math.log10(Math.max(p, 1e-300)) / RARITY_DECADES);
}

/** Raw score to the calibrated [0, 1] score. */
export function calibrate(cal: Calibrator, raw: number): number {
  return rarityToScore(exceedance(cal, raw));
}

/** Calibrated scores and labels of many raw scores. */
export function calibrateAll(cal: Calibrator, raw: ArrayLike<number>): { scores: Float64Array; labels: Uint8Array } {
  const scores = new Float64Array(raw.length);
  const labels = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    scores[i] = calibrate(cal, raw[i]);
    labels[i] = raw[i] >= cal.rawThreshold ? 1 : 0;
  }
  return { scores, labels };
}
