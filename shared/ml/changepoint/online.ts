import { assertInRange, NonFiniteValueError } from '../streaming/errors.js';
import type { ChangePoint } from './types.js';

export interface OnlineChangePointOptions {
  /** Decision interval h in sigmas (default 10: in-control run length about 10^5 points on white noise). */
  threshold?: number;
  /** Allowance k in sigmas: shifts smaller than 2k are ignored (default 0.5). */
  drift?: number;
  /** Points used to learn the first mean and sigma (default 30). */
  warmup?: number;
}

/** Plain JSON state of the online detector. */
export interface OnlineChangePointState {
  version: 1;
  options: Required<OnlineChangePointOptions>;
  n: number;
  /** Mean of the current segment (running mean, capped memory). */
  mean: number;
  segmentCount: number;
  /** EW mean absolute first difference: a sigma estimate that a level shift does not inflate. */
  meanAbsDiff: number;
  last: number;
  pos: number;
  neg: number;
  /** Start index, count and sum of each side's current excursion (the CUSUM change-time estimate and the new mean). */
  posRun: [number, number, number];
  negRun: [number, number, number];
  /** Points left, after a change, during which the new segment's mean settles before CUSUM resumes. */
  settle: number;
}

const SEGMENT_MEMORY = 1000;
const Z_CAP = 4;
/** For normal noise, E|x_t - x_{t-1}| = 2 sigma / sqrt(pi). */
const DIFF_TO_SIGMA = Math.sqrt(Math.PI) / 2;

/**
 * Two-sided CUSUM with a robust sigma (mean absolute first difference), for level changes as their own output.
 * The change time reported is where the alarming side last left zero (the CUSUM maximum-likelihood estimate), the
 * magnitude the mean since then minus the old segment's mean. After a change the segment restarts at the new mean.
 * For seasonal series feed the streaming detector's residuals (value - expected) rather than the raw values.
 */
export class OnlineChangePointDetector {
  private s: OnlineChangePointState;

  constructor(options: OnlineChangePointOptions = {}, state?: OnlineChangePointState) {
    const resolved = { threshold: options.threshold ?? 10, drift: options.drift ?? 0.5, warmup: options.warmup ?? 30 };
    assertInRange('threshold', resolved.threshold, 0.5, 1000);
    assertInRange('drift', resolved.drift, 0, 10);
    assertInRange('warmup', resolved.warmup, 5, 100_000, true);
    this.s = state ? structuredClone(state) : { version: 1, options: resolved, n: 0, mean: 0, segmentCount: 0, meanAbsDiff: 0, last: 0, pos: 0, neg: 0, posRun: [0, 0, 0], negRun: [0, 0, 0], settle: 0 };
  }

  static restore(state: OnlineChangePointState): OnlineChangePointDetector {
    return new OnlineChangePointDetector(state.options, state);
  }

  serialize(): OnlineChangePointState {
    return structuredClone(this.s);
  }

  /** Feeds one value; returns the change point confirmed at this value, if any. */
  update(value: number, timestamp?: number): ChangePoint | null {
    const s = this.s;
    if (!Number.isFinite(value)) throw new NonFiniteValueError('change-point values', s.n, value);
    const index = s.n++;
    if (index > 0) {
      const d = Math.abs(value - s.last);
      const sigmaNow = this.sigma();
      // Clip so a spike or the step itself counts as at most 4 sigma of difference.
      const clipped = index > s.options.warmup && sigmaNow > 0 ? Math.min(d, 4 * sigmaNow / DIFF_TO_SIGMA) : d;
      const rate = index <= s.options.warmup ? 1 / index : 0.01;
      s.meanAbsDiff += rate * (clipped - s.meanAbsDiff);
    }
    s.last = value;
    s.segmentCount = Math.min(SEGMENT_MEMORY, s.segmentCount + 1);
    if (index < s.options.warmup || s.settle > 0) {
      s.mean += (value - s.mean) / s.segmentCount;
      if (s.settle > 0) s.settle--;
      return null;
    }
    const sigma = Math.max(this.sigma(), 1e-12 * Math.max(1, Math.abs(s.mean)));
    // Capped at 4 sigma so a lone spike adds one bounded step instead of tripping the detector by itself.
    const z = Math.max(-Z_CAP, Math.min(Z_CAP, (value - s.mean) / sigma));
    s.pos = excursion(s.pos + z - s.options.drift, s.posRun, index, value);
    s.neg = excursion(s.neg - z - s.options.drift, s.negRun, index, value);
    if (s.pos > s.options.threshold || s.neg > s.options.threshold) {
      const run = s.pos > s.options.threshold ? s.posRun : s.negRun;
      const after = run[2] / run[1];
      const change: ChangePoint = { index: run[0], detectedAt: index, before: s.mean, after, magnitude: after - s.mean, magnitudeSigma: (after - s.mean) / sigma };
      if (timestamp !== undefined) change.timestamp = timestamp;
      s.mean = after;
      s.segmentCount = run[1];
      s.pos = 0;
      s.neg = 0;
      s.posRun = [0, 0, 0];
      s.negRun = [0, 0, 0];
      // The run started on the change's first noisy points: let the new mean settle rather than alarm on what it missed.
      s.settle = Math.ceil(s.options.warmup / 3);
      // A shift below the allowance is the last change's mean still settling: re-base silently, report nothing.
      return Math.abs(change.magnitudeSigma) >= 2 * s.options.drift ? change : null;
    }
    s.mean += (value - s.mean) / s.segmentCount;
    return null;
  }

  private sigma(): number {
    return this.s.meanAbsDiff * DIFF_TO_SIGMA;
  }
}

function excursion(next: number, run: [number, number, number], index: number, value: number): number {
  if (next <= 0) {
    run[0] = 0;
    run[1] = 0;
    run[2] = 0;
    return 0;
  }
  if (run[1] === 0) run[0] = index;
  run[1] += 1;
  run[2] += value;
  return next;
}

/** Runs the online detector over a whole series. */
export function detectChangePointsOnline(values: readonly number[], options: OnlineChangePointOptions = {}, timestamps?: readonly number[]): ChangePoint[] {
  const detector = new OnlineChangePointDetector(options);
  const out: ChangePoint[] = [];
  for (let i = 0; i < values.length; i++) {
    const c = detector.update(values[i], timestamps?.[i]);
    if (c) out.push(c);
  }
  return out;
}
