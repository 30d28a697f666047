/**
 * Event-window score in the spirit of NAB and SKAB: each labelled anomaly window is one event; the
 * first alarm inside it earns a reward that falls along a tanh from A_tp at the window start to A_fp
 * at its end (early detection pays), a window without alarm costs A_fn, and every alarm onset (a
 * 0 -> 1 edge of the predictions) outside all windows costs A_fp. Normalised so that the detector
 * that never alarms scores 0 and one that alarms at the start of every window scores 100.
 */
import { assertSameLength } from './pointwise.js';

export interface EventWindowProfile {
  name: string;
  tp: number;
  fp: number;
  fn: number;
}

/** SKAB's profiles (A_tp, A_fp, A_fn). */
export const EVENT_PROFILES: Record<'standard' | 'lowFp' | 'lowFn', EventWindowProfile> = {
  standard: { name: 'standard', tp: 1, fp: -0.11, fn: -1 },
  lowFp: { name: 'lowFp', tp: 1, fp: -0.22, fn: -1 },
  lowFn: { name: 'lowFn', tp: 1, fp: -0.11, fn: -2 },
};

export interface EventWindowResult {
  score: number;
  windows: number;
  detected: number;
  falseAlarms: number;
  /** Mean points from window start to first alarm, over detected windows. */
  meanDelay: number;
}

/** Contiguous runs of non-zero truth, as [start, end) index pairs. */
export function labelledWindows(truth: ArrayLike<number>): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < truth.length; i++) {
    if (truth[i] !== 0 && (i === 0 || truth[i - 1] === 0)) out.push([i, i + 1]);
    else if (truth[i] !== 0) out[out.length - 1][1] = i + 1;
  }
  return out;
}

function earlyReward(fraction: number, p: EventWindowProfile): number {
  const x = -Math.PI / 2 + Math.min(1, Math.max(0, fraction)) * Math.PI;
  const half = (p.tp - p.fp) / 2;
  return (half * -Math.tanh(x)) / Math.tanh(Math.PI / 2) + half + p.fp;
}

export function eventWindowScore(truth: ArrayLike<number>, predicted: ArrayLike<number>, profile: EventWindowProfile = EVENT_PROFILES.standard): EventWindowResult {
  assertSameLength(truth, predicted, 'eventWindowScore');
  const windows = labelledWindows(truth);
  let raw = 0;
  let detected = 0;
  let delays = 0;
  for (const [start, end] of windows) {
    let first = -1;
    for (let i = start; i < end && first < 0; i++) if (predicted[i] !== 0) first = i;
    if (first < 0) {
      raw += profile.fn;
      continue;
    }
    detected++;
    delays += first - start;
    raw += earlyReward(end - start > 1 ? (first - start) / (end - start - 1) : 0, profile);
  }
  let falseAlarms = 0;
  for (let i = 0; i < predicted.length; i++) {
    const onset = predicted[i] !== 0 && (i === 0 || predicted[i - 1] === 0);
    if (onset && truth[i] === 0) falseAlarms++;
  }
  raw += falseAlarms * profile.fp;
  const nullScore = windows.length * profile.fn;
  const perfect = windows.length * profile.tp;
  const score = windows.length > 0 ? (100 * (raw - nullScore)) / (perfect - nullScore) : Number.NaN;
  return { score, windows: windows.length, detected, falseAlarms, meanDelay: detected > 0 ? delays / detected : Number.NaN };
}
