import { describe, expect, it } from 'vitest';
import { probationOf, sweepCorpus, windowsAround, type ScoredStream } from '../../../../shared/ml/metrics/window-sweep.js';

/** Scores of a stream of `n` points: 0 everywhere except at the given indices. */
function scoresAt(n: number, at: Record<number, number>): Float64Array {
  const scores = new Float64Array(n);
  for (const [i, s] of Object.entries(at)) scores[Number(i)] = s;
  return scores;
}

const TP_AT_START = 2 / (1 + Math.exp(-5)) - 1;
const normalised = (raw: number, windows: number) => (100 * (raw + windows)) / (TP_AT_START * windows + windows);

describe('window protocol over a corpus', () => {
  it('scores the null detector 0 and a detector that fires at every window start 100', () => {
    const windows: [number, number][] = [[100, 200], [500, 600]];
    expect(sweepCorpus([{ scores: new Float64Array(1000), windows, probation: 0 }]).score).toBe(0);
    const perfect = sweepCorpus([{ scores: scoresAt(1000, { 100: 1, 500: 1 }), windows, probation: 0 }]);
    expect(perfect.score).toBeCloseTo(100, 9);
    expect(perfect).toMatchObject({ detected: 2, falsePositives: 0 });
  });

  it('rewards the earliest detection of a window by the scaled sigmoid and costs each false positive 0.11', () => {
    // Detection half-way through [100, 200): 2 sigmoid(2.5) - 1; a false positive more than 3 window lengths later costs 0.11.
    const stream: ScoredStream = { scores: scoresAt(1000, { 150: 0.9, 170: 0.95, 600: 0.5 }), windows: [[100, 200]], probation: 0 };
    const result = sweepCorpus([stream]);
    expect(result.threshold).toBe(0.9);
    expect(result.score).toBeCloseTo(normalised(2 / (1 + Math.exp(-2.5)) - 1, 1), 9);
    const withFalseAlarm = sweepCorpus([{ ...stream, scores: scoresAt(1000, { 150: 0.9, 600: 0.95 }) }]);
    expect(withFalseAlarm.score).toBeCloseTo(normalised(2 / (1 + Math.exp(-2.5)) - 1 - 0.11, 1), 9);
    expect(withFalseAlarm.falsePositives).toBe(1);
  });

  it('costs a false positive just after a window less than one far from it', () => {
    const near = sweepCorpus([{ scores: scoresAt(1000, { 100: 1, 205: 1 }), windows: [[100, 200]], probation: 0 }]);
    const far = sweepCorpus([{ scores: scoresAt(1000, { 100: 1, 900: 1 }), windows: [[100, 200]], probation: 0 }]);
    expect(near.raw).toBeGreaterThan(far.raw);
    expect(far.raw).toBeCloseTo(TP_AT_START - 0.11, 9);
  });

  it('sweeps one threshold for the whole corpus, not one per stream', () => {
    // Stream a is best at 0.3, stream b has a false positive at 0.5: a per-stream threshold would score both perfectly.
    const a: ScoredStream = { scores: scoresAt(1000, { 100: 0.3 }), windows: [[100, 200]], probation: 0 };
    const b: ScoredStream = { scores: scoresAt(1000, { 100: 0.9, 700: 0.5 }), windows: [[100, 200]], probation: 0 };
    const result = sweepCorpus([a, b]);
    expect(result.threshold).toBe(0.3);
    expect(result.score).toBeCloseTo(normalised(2 * TP_AT_START - 0.11, 2), 9);
    expect(result.streams.map((s) => s.falsePositives)).toEqual([0, 1]);
  });

  it('does not score the probationary period (15 % of the stream, at most 750 points)', () => {
    expect(probationOf(1000)).toBe(150);
    expect(probationOf(10_000)).toBe(750);
    const early = sweepCorpus([{ scores: scoresAt(1000, { 50: 1, 400: 1 }), windows: [[400, 500]] }]);
    expect(early.falsePositives).toBe(0);
    expect(early.score).toBeCloseTo(100, 9);
  });

  it('builds windows of 10 % of the stream shared among its anomalies, centred on each, merging overlaps', () => {
    expect(windowsAround(1000, [500])).toEqual([[450, 550]]);
    expect(windowsAround(1000, [300, 700])).toEqual([[275, 325], [675, 725]]);
    expect(windowsAround(1000, [500, 520])).toEqual([[475, 545]]);
    expect(windowsAround(1000, [])).toEqual([]);
  });
});
