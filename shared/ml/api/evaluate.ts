import { confusion, eventWindowScore, EVENT_PROFILES, pointwiseMetrics, prAuc, rocAuc } from '../metrics/index.js';
import { DEFAULT_EVALUATION_THRESHOLD, type EvaluationMetrics, type InlineEvaluateRequest } from './contract.js';

/** JSON has no NaN: an undefined rate (zero denominator) is null. */
const orNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

export interface LabelledDetections {
  /** 0/1 per point. */
  truth: ArrayLike<number>;
  /** Alarms per point, 0/1. */
  predicted: ArrayLike<number>;
  /** Scores per point, for ROC and PR AUC; absent when only alarms are known. */
  scores?: ArrayLike<number>;
  /** 0/1 per point marking the anomaly windows of the event-window score; default `truth` (its runs of 1s). */
  windowTruth?: ArrayLike<number>;
  /** The score threshold the alarms came from, or null when they were given. */
  threshold: number | null;
  profile: EvaluationMetrics['eventWindow']['profile'];
}

function hasBothClasses(truth: ArrayLike<number>): boolean {
  let ones = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] === 1) ones++;
  return ones > 0 && ones < truth.length;
}

/**
 * The metrics of POST /ml/evaluate, inline or for a model on a dataset: point-wise metrics of the
 * alarms, threshold-free ROC and PR AUC of the scores (when there are scores and both classes), and
 * SKAB's event-window score over the labelled windows.
 */
export function evaluationMetrics(d: LabelledDetections): EvaluationMetrics {
  const metrics = pointwiseMetrics(confusion(d.truth, d.predicted));
  const scores = d.scores && hasBothClasses(d.truth) ? d.scores : undefined;
  const event = eventWindowScore(d.windowTruth ?? d.truth, d.predicted, EVENT_PROFILES[d.profile]);
  return {
    points: d.truth.length,
    threshold: d.threshold,
    confusion: { tp: metrics.tp, fp: metrics.fp, tn: metrics.tn, fn: metrics.fn },
    precision: orNull(metrics.precision),
    recall: orNull(metrics.recall),
    f1: orNull(metrics.f1),
    falseAlarmRate: orNull(metrics.far),
    missedAlarmRate: orNull(metrics.mar),
    rocAuc: scores ? orNull(rocAuc(d.truth, scores)) : null,
    prAuc: scores ? orNull(prAuc(d.truth, scores)) : null,
    eventWindow: { profile: d.profile, score: orNull(event.score), windows: event.windows, detected: event.detected, falseAlarms: event.falseAlarms, meanDelay: orNull(event.meanDelay) },
  };
}

/** POST /ml/evaluate on inline labelled data: the alarms are given, or the scores at the threshold. */
export function evaluateDetections(request: InlineEvaluateRequest): EvaluationMetrics {
  const truth = request.labels;
  const threshold = request.threshold ?? DEFAULT_EVALUATION_THRESHOLD;
  const predicted = request.predictions ?? request.scores!.map((s) => (s >= threshold ? 1 : 0));
  return evaluationMetrics({
    truth,
    predicted,
    scores: request.scores,
    windowTruth: request.windows ? windowTruth(truth.length, request.windows) : undefined,
    threshold: request.predictions ? null : threshold,
    profile: request.profile,
  });
}

function windowTruth(length: number, windows: readonly { start: number; end: number }[]): number[] {
  const out = new Array<number>(length).fill(0);
  for (const w of windows) out.fill(1, w.start, w.end + 1);
  return out;
}
