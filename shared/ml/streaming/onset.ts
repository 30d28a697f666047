/**
 * The detector's per-point score: an anomaly likelihood that marks onsets (HTM/NAB style).
 *
 * 1. Raw surprise: ln(1 + -log10 p), p the smallest tail probability of the alarm channels (log-compressed, so one
 *    absurd residual does not flatten the distribution it is compared with).
 * 2. Likelihood: the Gaussian tail of that surprise against the sensor's own long-run mean and variance of it (a
 *    variance floor keeps well-calibrated sensors on the channels' own scale); a sensor whose model is often surprised
 *    needs a larger surprise to score.
 * 3. Range: a value beyond the range seen so far by more than 5 % of it is news whatever the model expected (the
 *    range then takes it in, so a new level is news once).
 * 4. Onsets: the score is kept only where it rises above a decaying memory of the recent scores; a persistent change
 *    scores where it starts, not through the episode.
 * Settings: chosen on the tuning half of the generated corpus (bench/streaming.bench.ts, BENCHMARKS.md).
 */
import type { ModelState } from './state.js';
import { logNormalUpperTail } from './stats.js';

/** Rate of the long-run mean and variance of the surprise: a memory of about 200 points. */
const SURPRISE_RATE = 0.005;
/** Variance floor of the log-surprise, about its spread on a well-calibrated sensor. */
const MIN_SURPRISE_VAR = 0.3;
/** A value further than this fraction of the range beyond it starts to score... */
const RANGE_TOLERANCE = 0.05;
/** ...and scores 0.5 this much further out. */
const RANGE_HALF = 0.05;
/** Per point; the memory of a score halves in about 700 points. */
const HOLD_DECAY = 0.999;
/** -log10 of the likelihood's tail probability at which the score is 0.5. */
const HALF_SCORE_LOG10 = 5;

export type OnsetState = Pick<ModelState, 'surpriseMean' | 'surpriseVar' | 'hold' | 'low' | 'high'>;

export function initialOnsetState(buffer: readonly number[]): OnsetState {
  let low = buffer[0];
  let high = buffer[0];
  for (const v of buffer) {
    if (v < low) low = v;
    if (v > high) high = v;
  }
  return { surpriseMean: 0, surpriseVar: 1, hold: 0, low, high };
}

/** Scores the point (value x, smallest channel log tail probability logP) and learns from it; `rangeFloor` keeps a flat range from being 0. */
export function onsetScore(s: OnsetState, logP: number, x: number, rangeFloor: number): number {
  const raw = Math.log1p(-logP / Math.LN10);
  const z = (raw - s.surpriseMean) / Math.sqrt(Math.max(s.surpriseVar, MIN_SURPRISE_VAR));
  const d = raw - s.surpriseMean;
  s.surpriseMean += SURPRISE_RATE * d;
  s.surpriseVar = (1 - SURPRISE_RATE) * (s.surpriseVar + SURPRISE_RATE * d * d);
  // No more surprised than usual is no news (and skips the tail's logarithms on most points).
  const x10 = z > 0 ? -logNormalUpperTail(z) / Math.LN10 / HALF_SCORE_LOG10 : 0;
  const likelihood = x10 / (1 + x10);

  const beyond = Math.max(x - s.high, s.low - x, 0) / Math.max(s.high - s.low, rangeFloor) - RANGE_TOLERANCE;
  const range = beyond > 0 ? beyond / (beyond + RANGE_HALF) : 0;
  if (x > s.high) s.high = x;
  if (x < s.low) s.low = x;

  const score = Math.max(likelihood, range);
  const onset = score > s.hold ? score : 0;
  s.hold = Math.max(s.hold * HOLD_DECAY, score);
  return onset;
}
