import { confusion, eventWindowScore, EVENT_PROFILES, pointwiseMetrics, prAuc, rocAuc } from '../metrics/index.js';
import type { EvaluateRequest, EvaluateResponse } from './contract.js';

/** JSON has no NaN: an undefined rate (zero denominator) is null. */
const orNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/**
 * POST /ml/evaluate on inline labelled data: point-wise metrics of the alarms (given, or scores at the
 * threshold), threshold-free ROC and PR AUC of the scores, and SKAB's event-window score.
 */
export function evaluateDetections(request: EvaluateRequest): EvaluateResponse {
  const truth = request.labels;
  const predicted = request.predictions ?? request.scores!.map((s) => (s >= request.threshold ? 1 : 0));
  const metrics = pointwiseMetrics(confusion(truth, predicted));
  const bothClasses = truth.includes(1) && truth.includes(0);
  const scores = bothClasses ? request.scores : undefined;
  const eventTruth = request.windows ? windowTruth(truth.length, request.windows) : truth;
  const event = eventWindowScore(eventTruth, predicted, EVENT_PROFILES[request.profile]);
  return {
    points: truth.length,
    threshold: request.predictions ? null : request.threshold,
    confusion: { tp: metrics.tp, fp: metrics.fp, tn: metrics.tn, fn: metrics.fn },
    precision: orNull(metrics.precision),
    recall: orNull(metrics.recall),
    f1: orNull(metrics.f1),
    falseAlarmRate: orNull(metrics.far),
    missedAlarmRate: orNull(metrics.mar),
    rocAuc: scores ? rocAuc(truth, scores) : null,
    prAuc: scores ? prAuc(truth, scores) : null,
    eventWindow: { profile: request.profile, score: orNull(event.score), windows: event.windows, detected: event.detected, falseAlarms: event.falseAlarms, meanDelay: orNull(event.meanDelay) },
  };
}

function windowTruth(length: number, windows: readonly { start: number; end: number }[]): number[] {
  const out = new Array<number>(length).fill(0);
  for (const w of windows) out.fill(1, w.start, w.end + 1);
  return out;
}
