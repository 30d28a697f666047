/** Point-wise confusion and the rates built on it (SKAB's definitions: FAR over normal rows, MAR over anomalous rows). */
import { InvalidInputError } from '../multivariate/errors.js';

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface PointwiseMetrics extends Confusion {
  precision: number;
  recall: number;
  f1: number;
  /** False-alarm rate FP / (FP + TN), a fraction (SKAB prints it x100). */
  far: number;
  /** Missed-alarm rate FN / (FN + TP), a fraction. */
  mar: number;
}

export function assertSameLength(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) throw new InvalidInputError('feature-count', `${what}: ${a.length} labels but ${b.length} predictions`);
  if (a.length === 0) throw new InvalidInputError('empty', `${what}: no points`);
}

/** Confusion of 0/1 truth against 0/1 predictions (anything non-zero counts as 1). */
export function confusion(truth: ArrayLike<number>, predicted: ArrayLike<number>): Confusion {
  assertSameLength(truth, predicted, 'confusion');
  const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i] !== 0;
    const p = predicted[i] !== 0;
    if (t && p) c.tp++;
    else if (p) c.fp++;
    else if (t) c.fn++;
    else c.tn++;
  }
  return c;
}

/** Sums confusions, for SKAB's pooling over files. */
export function addConfusions(parts: readonly Confusion[]): Confusion {
  return parts.reduce((a, b) => ({ tp: a.tp + b.tp, fp: a.fp + b.fp, tn: a.tn + b.tn, fn: a.fn + b.fn }), { tp: 0, fp: 0, tn: 0, fn: 0 });
}

const ratio = (num: number, den: number) => (den > 0 ? num / den : Number.NaN);

/** F1 = TP / (TP + (FP + FN) / 2), the form SKAB uses (equal to 2PR / (P + R)). */
export function pointwiseMetrics(c: Confusion): PointwiseMetrics {
  return {
    ...c,
    precision: ratio(c.tp, c.tp + c.fp),
    recall: ratio(c.tp, c.tp + c.fn),
    f1: ratio(c.tp, c.tp + (c.fp + c.fn) / 2),
    far: ratio(c.fp, c.fp + c.tn),
    mar: ratio(c.fn, c.fn + c.tp),
  };
}
