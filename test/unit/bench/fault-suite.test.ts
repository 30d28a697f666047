import { describe, expect, it } from 'vitest';
import { FAULT_KINDS, faultSuite, generateExperiment, halfSpan, readAnomalyFree, SCENARIO_KINDS, SETTLING_ROWS, SKAB_SENSORS, TEST_ROWS, TRAIN_ROWS } from '../../../bench/fault-suite.js';
import { columnStats, sliceRows } from '../../../shared/ml/multivariate/matrix.js';

const base = readAnomalyFree();
const span = halfSpan(base, 'tuning');
const rows = TRAIN_ROWS + TEST_ROWS;
const column = (m: { cols: number; data: Float64Array }, c: number, from: number, to: number) => Array.from({ length: to - from }, (_, i) => m.data[(from + i) * m.cols + c]);
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const firstFlagged = (a: Uint8Array) => a.indexOf(1);

describe('fault-injection suite', () => {
  it('reads the 8 sensors of anomaly-free.csv', () => {
    expect(base.cols).toBe(SKAB_SENSORS.length);
    expect(base.rows).toBe(9405);
  });

  it('is seeded: the same seed gives the same experiment, another seed another', () => {
    const a = generateExperiment(base, 'leak', 7, span);
    expect(generateExperiment(base, 'leak', 7, span).features.data).toEqual(a.features.data);
    expect(generateExperiment(base, 'leak', 8, span).features.data).not.toEqual(a.features.data);
  });

  it('shapes every experiment like SKAB: a clean training stretch, then one event in the test rows', () => {
    for (const kind of SCENARIO_KINDS) {
      const e = generateExperiment(base, kind, 3, span);
      expect(e.features.rows).toBe(rows);
      expect(e.anomaly.subarray(0, TRAIN_ROWS).every((v) => v === 0)).toBe(true);
      expect(e.scored.subarray(0, TRAIN_ROWS).every((v) => v === 0)).toBe(true);
      const isFault = (FAULT_KINDS as readonly string[]).includes(kind);
      expect(e.anomaly.some((v) => v === 1)).toBe(isFault);
    }
  });

  it('a leak lowers the pressure and raises the flow inside the fault window', () => {
    const e = generateExperiment(base, 'leak', 11, span);
    const start = firstFlagged(e.anomaly);
    const train = columnStats(sliceRows(e.features, 0, TRAIN_ROWS));
    const pressure = mean(column(e.features, 3, start + 60, start + 200));
    const flow = mean(column(e.features, 7, start + 60, start + 200));
    expect((pressure - train.mean[3]) / train.std[3]).toBeLessThan(-2);
    expect((flow - train.mean[7]) / train.std[7]).toBeGreaterThan(1);
  });

  it('imbalance raises both accelerometers; a stuck sensor stops moving', () => {
    const imbalance = generateExperiment(base, 'imbalance', 5, span);
    const s = firstFlagged(imbalance.anomaly);
    const before = mean(column(imbalance.features, 0, s - 100, s));
    const sd = columnStats(sliceRows(imbalance.features, 0, TRAIN_ROWS)).std[0];
    expect(mean(column(imbalance.features, 0, s + 60, s + 200)) - before).toBeGreaterThan(2 * sd);
    const stuck = generateExperiment(base, 'stuck', 5, span);
    const t = firstFlagged(stuck.anomaly);
    const frozen = SKAB_SENSORS.map((_, c) => new Set(column(stuck.features, c, t, t + 200)).size);
    expect(Math.min(...frozen)).toBe(1);
  });

  it('a non-fault change is labelled normal, and its settling window is left out of the metrics', () => {
    const e = generateExperiment(base, 'setpoint', 9, span);
    const gap = e.scored.subarray(TRAIN_ROWS).indexOf(0) + TRAIN_ROWS;
    expect(e.anomaly.every((v) => v === 0)).toBe(true);
    expect(e.scored.subarray(gap, gap + SETTLING_ROWS).every((v) => v === 0)).toBe(true);
    expect(e.scored[gap + SETTLING_ROWS]).toBe(1);
  });

  it('the halves draw from disjoint stretches of normal operation with disjoint seeds', () => {
    const [, tuningEnd] = halfSpan(base, 'tuning');
    const [heldStart] = halfSpan(base, 'heldout');
    expect(heldStart).toBeGreaterThanOrEqual(tuningEnd);
    const tuning = faultSuite(base, 'tuning', 2);
    const held = faultSuite(base, 'heldout', 2);
    expect(tuning).toHaveLength(2 * SCENARIO_KINDS.length);
    const names = new Set(tuning.map((e) => e.name));
    expect(held.some((e) => names.has(e.name))).toBe(false);
  });
});
