import { assertFiniteSeries, assertInRange, assertMinLength, ShapeMismatchError } from '../streaming/errors.js';
import type { ChangePoint } from './types.js';

export interface PeltOptions {
  /** 'mean' (normal, known variance: level changes) or 'meanvar' (normal: level and/or variance changes). */
  cost?: 'mean' | 'meanvar';
  /** Penalty per change; default BIC-like: 2 log(n) sigma^2 for 'mean', 4 log(n) for 'meanvar' (two parameters a segment). Larger = fewer changes. */
  penalty?: number;
  /** Shortest segment (default 5). */
  minSegment?: number;
  timestamps?: readonly number[];
}

/** PELT is quadratic on a long series without changes; above this length binary segmentation (n log n) takes over. */
export const EXACT_OFFLINE_POINTS = 5_000;
export const MAX_OFFLINE_POINTS = 1_000_000;

/** PELT costs on over-flowing sums would lose precision for series far from 0: costs are computed on centred values. */
function prefixSums(values: readonly number[]): { s1: Float64Array; s2: Float64Array; centre: number } {
  const n = values.length;
  let centre = 0;
  for (const v of values) centre += v / n;
  const s1 = new Float64Array(n + 1);
  const s2 = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const v = values[i] - centre;
    s1[i + 1] = s1[i] + v;
    s2[i + 1] = s2[i] + v * v;
  }
  return { s1, s2, centre };
}

/** Robust noise sigma from first differences (median absolute difference / (0.6745 sqrt 2)): level changes do not inflate it. */
function differenceSigma(values: readonly number[]): number {
  const d = new Float64Array(values.length - 1);
  for (let i = 1; i < values.length; i++) d[i - 1] = Math.abs(values[i] - values[i - 1]);
  d.sort();
  return d[Math.floor(d.length / 2)] / (0.6745 * Math.SQRT2);
}

/**
 * Offline change points by PELT (Killick, Fearnhead & Eckley 2012): the exact minimum of the total segment cost plus a
 * penalty per change, with pruning that keeps it near linear when changes keep coming. Worst case (no change in a long
 * series) is quadratic, so above EXACT_OFFLINE_POINTS greedy binary segmentation with the same cost and penalty is used.
 */
export function detectChangePointsOffline(values: readonly number[], options: PeltOptions = {}): ChangePoint[] {
  assertFiniteSeries(values);
  const minSegment = options.minSegment ?? 5;
  assertInRange('minSegment', minSegment, 2, 100_000, true);
  assertMinLength(values, 2 * minSegment, 'series', 'to have two segments of minSegment points');
  if (values.length > MAX_OFFLINE_POINTS) {
    throw new ShapeMismatchError(`series has ${values.length} points; offline change points take at most ${MAX_OFFLINE_POINTS} (use the online detector)`, { length: values.length, max: MAX_OFFLINE_POINTS });
  }
  if (options.timestamps && options.timestamps.length !== values.length) throw new ShapeMismatchError('timestamps and values differ in length');
  const n = values.length;
  const costKind = options.cost ?? 'mean';
  const { s1, s2, centre } = prefixSums(values);
  const sigma = Math.max(differenceSigma(values), 1e-12 * Math.max(1, Math.abs(centre)));
  const penalty = options.penalty ?? (costKind === 'mean' ? 2 * Math.log(n) * sigma * sigma : 4 * Math.log(n));
  assertInRange('penalty', penalty, 0, Number.MAX_VALUE);
  const varianceFloor = sigma * sigma * 1e-6;
  const cost = (a: number, b: number): number => {
    const len = b - a;
    const sum = s1[b] - s1[a];
    const sse = s2[b] - s2[a] - (sum * sum) / len;
    if (costKind === 'mean') return sse;
    return len * Math.log(Math.max(sse / len, varianceFloor));
  };
  const bounds = n <= EXACT_OFFLINE_POINTS ? peltBounds(n, cost, penalty, minSegment) : binarySegmentationBounds(n, cost, penalty, minSegment);
  const segmentMean = (a: number, b: number): number => (s1[b] - s1[a]) / (b - a) + centre;
  const out: ChangePoint[] = [];
  for (let i = 1; i < bounds.length - 1; i++) {
    const before = segmentMean(bounds[i - 1], bounds[i]);
    const after = segmentMean(bounds[i], bounds[i + 1]);
    const change: ChangePoint = { index: bounds[i], detectedAt: bounds[i], before, after, magnitude: after - before, magnitudeSigma: (after - before) / sigma };
    if (options.timestamps) change.timestamp = options.timestamps[bounds[i]];
    out.push(change);
  }
  return out;
}

type SegmentCost = (a: number, b: number) => number;

/** Segment boundaries (0, changes..., n) minimising total cost + penalty per change, exactly. */
function peltBounds(n: number, cost: SegmentCost, penalty: number, minSegment: number): number[] {
  const best = new Float64Array(n + 1);
  const previous = new Int32Array(n + 1);
  best[0] = -penalty;
  let candidates: number[] = [0];
  for (let t = minSegment; t <= n; t++) {
    let bestValue = Infinity;
    let bestStart = 0;
    for (const s of candidates) {
      if (t - s < minSegment) continue;
      const v = best[s] + cost(s, t) + penalty;
      if (v < bestValue) {
        bestValue = v;
        bestStart = s;
      }
    }
    best[t] = bestValue;
    previous[t] = bestStart;
    // Pruning: a start that is already worse than the optimum by more than the penalty can never win again.
    candidates = candidates.filter((s) => t - s < minSegment || best[s] + cost(s, t) <= bestValue);
    if (t + 1 - minSegment >= minSegment) candidates.push(t + 1 - minSegment);
  }
  const bounds: number[] = [];
  for (let t = n; t > 0; t = previous[t]) bounds.push(t);
  bounds.push(0);
  return bounds.reverse();
}

/** Greedy binary segmentation: split where the cost drops most, while the drop beats the penalty. */
function binarySegmentationBounds(n: number, cost: SegmentCost, penalty: number, minSegment: number): number[] {
  const changes: number[] = [];
  const stack: [number, number][] = [[0, n]];
  while (stack.length > 0) {
    const [a, b] = stack.pop() as [number, number];
    if (b - a < 2 * minSegment) continue;
    const whole = cost(a, b);
    let bestGain = penalty;
    let bestSplit = -1;
    for (let t = a + minSegment; t <= b - minSegment; t++) {
      const gain = whole - cost(a, t) - cost(t, b);
      if (gain > bestGain) {
        bestGain = gain;
        bestSplit = t;
      }
    }
    if (bestSplit < 0) continue;
    changes.push(bestSplit);
    stack.push([a, bestSplit], [bestSplit, b]);
  }
  return [0, ...changes.sort((x, y) => x - y), n];
}
