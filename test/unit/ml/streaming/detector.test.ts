import { describe, expect, it } from 'vitest';
import { StreamingDetector, detectSeries, InvalidParameterError, InvalidStateError, NonFiniteValueError, SeriesTooShortError, type StreamingPoint } from '../../../../shared/ml/streaming/index.js';
import { scoreEvents } from '../../../../shared/ml/streaming/eventScore.js';
import { generateSeries, type BaseKind, type InjectedKind } from '../../../../shared/ml/streaming/synthetic.js';

function alarmOnsets(points: readonly StreamingPoint[]): number {
  return points.filter((p, i) => p.label && !(i > 0 && points[i - 1].label)).length;
}

function recallOf(base: BaseKind, kind: InjectedKind | 'none', seeds: readonly number[]): { recall: number; falseAlarmsPer10k: number } {
  let detected = 0;
  let windows = 0;
  let falseAlarms = 0;
  let points = 0;
  for (const seed of seeds) {
    const series = generateSeries(base, kind, seed);
    const labels = detectSeries(series.values).points.map((p) => p.label);
    const result = scoreEvents(labels, series.windows);
    detected += result.detected;
    windows += result.windows;
    falseAlarms += result.falseAlarms;
    points += result.points;
  }
  return { recall: detected / windows, falseAlarmsPer10k: (falseAlarms / points) * 1e4 };
}

describe('StreamingDetector on generated series', () => {
  it.each([
    ['noise', 'spike', 0.9],
    ['seasonal', 'spike', 0.5],
    ['noise', 'level_shift', 0.9],
    ['seasonal', 'level_shift', 0.8],
    ['noise', 'trend_change', 0.7],
    ['noise', 'variance_change', 0.5],
    ['quantised', 'stuck', 0.9],
    ['seasonal', 'stuck', 0.9],
    ['seasonal', 'seasonal_break', 0.8],
  ] as const)('finds %s series with %s anomalies (recall >= %s)', (base, kind, minRecall) => {
    // Prepare / Act
    const { recall } = recallOf(base, kind, [11, 12, 13, 14]);
    // Assess
    expect(recall).toBeGreaterThanOrEqual(minRecall);
  });

  it.each(['noise', 'seasonal', 'ar1', 'quantised', 'trend_seasonal'] as const)('raises at most 2 false alarms per 10,000 points on clean %s series', (base) => {
    const { falseAlarmsPer10k } = recallOf(base, 'none', [21, 22, 23, 24]);
    expect(falseAlarmsPer10k).toBeLessThanOrEqual(2);
  });

  it('names the kind of a stuck sensor and of a large level shift', () => {
    const stuck = generateSeries('noise', 'stuck', 31);
    const stuckKinds = detectSeries(stuck.values).points.filter((p) => p.label).map((p) => p.kind);
    expect(stuckKinds).toContain('stuck');
    const shift = generateSeries('noise', 'level_shift', 32);
    const shiftKinds = detectSeries(shift.values).points.filter((p) => p.label).map((p) => p.kind);
    expect(shiftKinds).toContain('level_shift');
  });

  it('learns the season from the warm-up buffer and keeps the band around the expectation', () => {
    const series = generateSeries('seasonal', 'none', 41);
    const result = detectSeries(series.values);
    expect(result.period).toBe(series.period);
    const scored = result.points.filter((p) => !p.warmingUp);
    const inside = scored.filter((p) => p.value >= p.lower && p.value <= p.upper).length / scored.length;
    expect(inside).toBeGreaterThan(0.99);
    for (const p of scored) {
      expect(p.score).toBeGreaterThanOrEqual(0);
      expect(p.score).toBeLessThanOrEqual(1);
      expect(p.lower).toBeLessThanOrEqual(p.expected);
      expect(p.upper).toBeGreaterThanOrEqual(p.expected);
    }
  });

  it('alarms more at sensitivity 100 than at 0', () => {
    const series = generateSeries('heavy_tail', 'variance_change', 51);
    const low = alarmOnsets(detectSeries(series.values, { sensitivity: 0 }).points);
    const high = alarmOnsets(detectSeries(series.values, { sensitivity: 100 }).points);
    expect(high).toBeGreaterThan(low);
  });

  it('scores the warm-up points too in two-pass batch mode', () => {
    const series = generateSeries('seasonal', 'none', 61);
    const points = detectSeries(series.values, { twoPass: true }).points;
    expect(points.every((p) => !p.warmingUp)).toBe(true);
    expect(alarmOnsets(points)).toBeLessThanOrEqual(2);
  });
});

describe('StreamingDetector state', () => {
  it.each([100, 400, 2500])('gives identical scores after a JSON round trip of its state at point %i', (cut) => {
    // Prepare
    const series = generateSeries('trend_seasonal', 'level_shift', 71);
    const original = new StreamingDetector();
    for (const v of series.values.slice(0, cut)) original.update(v);
    // Act
    const restored = StreamingDetector.restore(JSON.parse(JSON.stringify(original.serialize())));
    // Assess
    for (const v of series.values.slice(cut)) expect(restored.update(v)).toEqual(original.update(v));
  });

  it('restores a state stored before the onset score existed: labels and surprise as before, scores in [0, 1]', () => {
    const series = generateSeries('seasonal', 'level_shift', 72);
    const original = new StreamingDetector();
    for (const v of series.values.slice(0, 1000)) original.update(v);
    const state = JSON.parse(JSON.stringify(original.serialize()));
    for (const field of ['surpriseMean', 'surpriseVar', 'hold', 'low', 'high']) delete state.model[field];
    const restored = StreamingDetector.restore(state);
    for (const v of series.values.slice(1000)) {
      const [a, b] = [original.update(v), restored.update(v)];
      expect([b.label, b.surprise, b.kind]).toEqual([a.label, a.surprise, a.kind]);
      expect(b.score).toBeGreaterThanOrEqual(0);
      expect(b.score).toBeLessThanOrEqual(1);
    }
  });

  it('stays a few KB per sensor', () => {
    const series = generateSeries('seasonal', 'none', 81);
    const detector = new StreamingDetector();
    series.values.forEach((v) => detector.update(v));
    expect(JSON.stringify(detector.serialize()).length).toBeLessThan(8 * 1024);
  });

  it('refuses a corrupt state with a clear error', () => {
    expect(() => StreamingDetector.restore({ version: 1, n: 'x' })).toThrow(InvalidStateError);
    const detector = new StreamingDetector({ warmup: 16 });
    for (let i = 0; i < 20; i++) detector.update(i % 3);
    const state = detector.serialize();
    expect(() => StreamingDetector.restore({ ...state, model: { ...state.model, season: [1, 2, 3, 4] } })).toThrow(/season length/);
  });
});

describe('bad input', () => {
  it('rejects NaN and Infinity naming the position', () => {
    const detector = new StreamingDetector();
    detector.update(1);
    expect(() => detector.update(Number.NaN)).toThrow(NonFiniteValueError);
    expect(() => detectSeries([...Array.from({ length: 20 }, () => 1), Infinity])).toThrow(/element 20 is Infinity/);
  });

  it('rejects out-of-range options and too-short series', () => {
    expect(() => new StreamingDetector({ sensitivity: 101 })).toThrow(InvalidParameterError);
    expect(() => new StreamingDetector({ warmup: 3 })).toThrow(InvalidParameterError);
    expect(() => detectSeries([1, 2, 3])).toThrow(SeriesTooShortError);
  });

  it('handles a constant series without alarms, then flags a change', () => {
    const values = Array.from({ length: 600 }, () => 5);
    values.push(6);
    const points = detectSeries(values).points;
    expect(points.slice(0, 600).some((p) => p.label)).toBe(false);
    expect(points[600].label).toBe(true);
  });
});

describe('the score marks onsets', () => {
  it('scores a persistent level shift at its onset, not through the episode, while labels and surprise follow the change', () => {
    const series = generateSeries('noise', 'level_shift', 91);
    const detector = new StreamingDetector();
    const points = series.values.map((v) => detector.update(v));
    for (const w of series.windows) {
      const onset = points.slice(w.start, w.start + 10);
      expect(Math.max(...onset.map((p) => p.score))).toBeGreaterThanOrEqual(detector.threshold);
      expect(onset.some((p) => p.label && p.surprise >= detector.surpriseThreshold)).toBe(true);
      // After the onset the new level is news no more: no score reaches the threshold again in the window.
      expect(points.slice(w.start + 10, w.end).filter((p) => p.score >= detector.threshold)).toHaveLength(0);
    }
  });

  it('keeps high scores rare and never holds them: on clean series under 0.1 % of points reach the threshold, none in a row', () => {
    let high = 0;
    let held = 0;
    let total = 0;
    for (const base of ['noise', 'seasonal', 'ar1', 'heavy_tail', 'quantised', 'trend_seasonal'] as const) {
      const detector = new StreamingDetector();
      const scores = generateSeries(base, 'none', 101).values.map((v) => detector.update(v).score);
      scores.forEach((s, i) => {
        if (s >= detector.threshold) high++;
        if (s >= detector.threshold && i > 0 && scores[i - 1] >= detector.threshold) held++;
      });
      total += scores.length;
    }
    expect(high / total).toBeLessThan(0.001);
    expect(held).toBe(0);
  });

  it('gives a flat warm-up a scale: the first departure from the constant scores high, and the new regime becomes normal', () => {
    const values = [...Array.from({ length: 500 }, () => 12), ...Array.from({ length: 1500 }, (_, i) => 12.5 + Math.sin(i / 5) + 0.2 * Math.cos(i * 1.7))];
    const detector = new StreamingDetector();
    const points = values.map((v) => detector.update(v));
    expect(points[500].label).toBe(true);
    expect(points[500].score).toBeGreaterThanOrEqual(detector.threshold);
    expect(points.slice(0, 500).some((p) => p.label || p.score >= detector.threshold)).toBe(false);
    expect(points.slice(1000).filter((p) => p.score >= detector.threshold)).toHaveLength(0);
    // The departure set the scale: labels (and the live scorer's episodes) stop within a couple of hundred points.
    expect(points.slice(700).filter((p) => p.label).length).toBeLessThanOrEqual(5);
  });
});
