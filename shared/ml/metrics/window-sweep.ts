/**
 * The window protocol of streaming anomaly benchmarks (NAB's scorer, standard profile), over a whole corpus:
 * - every point whose score reaches the threshold is a detection;
 * - inside a labelled window only the earliest detection counts, rewarded by a scaled sigmoid of its position
 *   (about 0.99 at the window's first point, 0 at its last); a window without detection costs `fn`;
 * - every detection outside all windows costs `fp`, scaled by the same sigmoid of its distance past the preceding
 *   window (a detection just after a window costs little, one three windows later or before any window costs the full fp);
 * - the first `probation` points of each stream are not scored (the detector is learning);
 * - ONE threshold is swept over the raw score column of the whole corpus, and the best total is normalised so that
 *   the detector that never raises anything scores 0 and the perfect one (every window at its first point) 100.
 */

export interface WindowProfile {
  tp: number;
  fp: number;
  fn: number;
}

/** NAB's standard profile (A_TP, A_FP, A_FN as weights). */
export const STANDARD_PROFILE: WindowProfile = { tp: 1, fp: 0.11, fn: 1 };

export interface ScoredStream {
  name?: string;
  scores: ArrayLike<number>;
  /** Labelled windows as [start, end) index pairs, sorted and disjoint. */
  windows: readonly (readonly [number, number])[];
  /** Points not scored at the start (default: NAB's probationary period, 15 % of the stream, at most 750). */
  probation?: number;
}

export interface SweepResult {
  /** Normalised score at the best threshold: 100 perfect, 0 the null detector. */
  score: number;
  threshold: number;
  raw: number;
  windows: number;
  detected: number;
  /** Detections outside every window at the best threshold (points, as the protocol counts them). */
  falsePositives: number;
  /** Per stream at the best threshold, in input order. */
  streams: { name?: string; raw: number; windows: number; detected: number; falsePositives: number }[];
}

/** NAB's probationary period: 15 % of the stream, at most 750 points. */
export function probationOf(length: number): number {
  return Math.min(Math.floor(0.15 * length), 750);
}

/**
 * NAB's windows around labelled anomaly points: each 10 % of the stream divided by the number of anomalies, centred on
 * the label; overlapping windows merge.
 */
export function windowsAround(length: number, anomalies: readonly number[]): [number, number][] {
  if (anomalies.length === 0) return [];
  const width = Math.max(1, Math.floor((0.1 * length) / anomalies.length));
  const out: [number, number][] = [];
  for (const at of [...anomalies].sort((a, b) => a - b)) {
    const start = Math.max(0, at - Math.floor(width / 2));
    const end = Math.min(length, start + width);
    const last = out[out.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else out.push([start, end]);
  }
  return out;
}

function scaledSigmoid(position: number): number {
  return position > 3 ? -1 : 2 / (1 + Math.exp(5 * position)) - 1;
}

interface Candidate {
  score: number;
  /** Index into the corpus' windows, or -1 for a false positive. */
  window: number;
  /** The weighted reward (a window) or the cost (negative, a false positive). */
  weight: number;
  stream: number;
}

/** The weight of each scored point of one stream under the protocol (index -1: the point is not scored). */
function weighStream(stream: ScoredStream, streamIndex: number, firstWindow: number, profile: WindowProfile, out: Candidate[]): void {
  const n = stream.scores.length;
  const probation = stream.probation ?? probationOf(n);
  let w = 0;
  let prevEnd = -1;
  let prevWidth = 0;
  for (let i = 0; i < n; i++) {
    while (w < stream.windows.length && i >= stream.windows[w][1]) {
      prevEnd = stream.windows[w][1] - 1;
      prevWidth = stream.windows[w][1] - stream.windows[w][0];
      w++;
    }
    const score = stream.scores[i];
    if (i < probation || !(score > 0)) continue;
    const inside = w < stream.windows.length && i >= stream.windows[w][0];
    if (inside) {
      const [start, end] = stream.windows[w];
      out.push({ score, window: firstWindow + w, weight: profile.tp * scaledSigmoid(-(end - i) / (end - start)), stream: streamIndex });
    } else {
      const unweighted = prevEnd < 0 ? -1 : scaledSigmoid(Math.abs(i - prevEnd) / Math.max(1, prevWidth - 1));
      out.push({ score, window: -1, weight: profile.fp * unweighted, stream: streamIndex });
    }
  }
}

/**
 * Sweeps one threshold over every distinct score of the corpus (detections: score >= threshold, scores of 0 never
 * detect) and returns the best normalised score with its threshold and counts.
 */
export function sweepCorpus(corpus: readonly ScoredStream[], profile: WindowProfile = STANDARD_PROFILE): SweepResult {
  const candidates: Candidate[] = [];
  const windowStream: number[] = [];
  corpus.forEach((stream, s) => {
    weighStream(stream, s, windowStream.length, profile, candidates);
    for (let k = 0; k < stream.windows.length; k++) windowStream.push(s);
  });
  const windows = windowStream.length;
  const nullRaw = -profile.fn * windows;
  const perfectRaw = profile.tp * scaledSigmoid(-1) * windows;
  candidates.sort((a, b) => b.score - a.score);
  const best = new Float64Array(windows).fill(Number.NEGATIVE_INFINITY);
  let raw = nullRaw;
  let bestRaw = nullRaw;
  let bestThreshold = Number.POSITIVE_INFINITY;
  for (let i = 0; i < candidates.length; ) {
    const threshold = candidates[i].score;
    for (; i < candidates.length && candidates[i].score === threshold; i++) {
      const c = candidates[i];
      if (c.window < 0) raw += c.weight;
      else if (c.weight > best[c.window]) {
        raw += c.weight - (best[c.window] === Number.NEGATIVE_INFINITY ? -profile.fn : best[c.window]);
        best[c.window] = c.weight;
      }
    }
    if (raw > bestRaw) {
      bestRaw = raw;
      bestThreshold = threshold;
    }
  }
  return { ...outcomeAt(corpus, candidates, windowStream, bestThreshold, profile), score: windows === 0 ? 0 : (100 * (bestRaw - nullRaw)) / (perfectRaw - nullRaw), threshold: bestThreshold };
}

/** Counts at one threshold, per stream and in total. */
function outcomeAt(corpus: readonly ScoredStream[], candidates: readonly Candidate[], windowStream: readonly number[], threshold: number, profile: WindowProfile): Omit<SweepResult, 'score' | 'threshold'> {
  const streams = corpus.map((s) => ({ name: s.name, raw: -profile.fn * s.windows.length, windows: s.windows.length, detected: 0, falsePositives: 0 }));
  const best = new Map<number, number>();
  for (const c of candidates) {
    if (c.score < threshold) break;
    if (c.window < 0) {
      streams[c.stream].raw += c.weight;
      streams[c.stream].falsePositives++;
    } else best.set(c.window, Math.max(best.get(c.window) ?? Number.NEGATIVE_INFINITY, c.weight));
  }
  for (const [window, weight] of best) {
    const s = streams[windowStream[window]];
    s.raw += weight + profile.fn;
    s.detected++;
  }
  const sum = (k: 'raw' | 'windows' | 'detected' | 'falsePositives') => streams.reduce((a, s) => a + s[k], 0);
  return { raw: sum('raw'), windows: sum('windows'), detected: sum('detected'), falsePositives: sum('falsePositives'), streams };
}
