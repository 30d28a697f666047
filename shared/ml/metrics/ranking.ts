/** Threshold-free quality of a continuous score: ROC AUC and PR AUC (average precision). */
import { InvalidInputError } from '../multivariate/errors.js';
import { assertSameLength } from './pointwise.js';

function countClasses(truth: ArrayLike<number>): { positives: number; negatives: number } {
  let positives = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] !== 0) positives++;
  const negatives = truth.length - positives;
  if (positives === 0 || negatives === 0) {
    throw new InvalidInputError('bad-option', `AUC needs both classes; got ${positives} anomalous and ${negatives} normal points`);
  }
  return { positives, negatives };
}

/** Indices sorted by descending score. */
function byScoreDescending(scores: ArrayLike<number>): Int32Array {
  return Int32Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
}

/** ROC AUC as the Mann-Whitney statistic: P(score of an anomaly > score of a normal point), ties count half. */
export function rocAuc(truth: ArrayLike<number>, scores: ArrayLike<number>): number {
  assertSameLength(truth, scores, 'rocAuc');
  const { positives, negatives } = countClasses(truth);
  const order = byScoreDescending(scores);
  let area = 0;
  let negativesAbove = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    let pos = 0;
    let neg = 0;
    while (j < order.length && scores[order[j]] === scores[order[i]]) {
      if (truth[order[j]] !== 0) pos++;
      else neg++;
      j++;
    }
    area += pos * (negatives - negativesAbove - neg) + pos * neg * 0.5;
    negativesAbove += neg;
    i = j;
  }
  return area / (positives * negatives);
}

/** PR AUC as average precision (sum over thresholds of precision x recall step), tied scores as one threshold. */
export function prAuc(truth: ArrayLike<number>, scores: ArrayLike<number>): number {
  assertSameLength(truth, scores, 'prAuc');
  const { positives } = countClasses(truth);
  const order = byScoreDescending(scores);
  let tp = 0;
  let seen = 0;
  let ap = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    let pos = 0;
    while (j < order.length && scores[order[j]] === scores[order[i]]) {
      if (truth[order[j]] !== 0) pos++;
      j++;
    }
    tp += pos;
    seen += j - i;
    ap += (pos / positives) * (tp / seen);
    i = j;
  }
  return ap;
}
