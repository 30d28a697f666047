import { describe, expect, it } from 'vitest';
import { calibrate, calibrateAll, fitCalibrator, sensitivityToFalseAlarmRate, withFalseAlarmRate } from '../../../../shared/ml/calibration.js';
import { createRng } from '../../../../shared/ml/multivariate/rng.js';

const rng = createRng(11);
const exponential = (n: number) => Float64Array.from({ length: n }, () => -Math.log(1 - rng()));

describe('calibration', () => {
  it('labels about the target share of fresh normal scores, including rates rarer than the training set can show', () => {
    const cal = fitCalibrator(exponential(400), { targetFalseAlarmRate: 0.001 });
    const fresh = exponential(200_000);
    const rate = calibrateAll(cal, fresh).labels.reduce((a, b) => a + b, 0) / fresh.length;
    expect(rate).toBeGreaterThan(0.0002);
    expect(rate).toBeLessThan(0.005);
  });

  it('maps raw scores monotonically into [0, 1] with the label threshold at the calibrated score', () => {
    const cal = fitCalibrator(exponential(1000), { targetFalseAlarmRate: 0.01 });
    const xs = [-5, 0, 0.1, 1, 3, cal.rawThreshold, 10, 100, 1e6];
    const scores = xs.map((x) => calibrate(cal, x));
    scores.forEach((s, i) => {
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(1);
      if (i > 0) expect(s).toBeGreaterThanOrEqual(scores[i - 1]);
    });
    expect(calibrate(cal, cal.rawThreshold)).toBeCloseTo(cal.threshold, 6);
    expect(cal.threshold).toBeCloseTo(1 / 3, 6); // 1 in 100 on the six-decade scale
  });

  it('sensitivity raises the alarm rate as it rises, from 1e-4 to 0.1', () => {
    expect(sensitivityToFalseAlarmRate(0)).toBeCloseTo(1e-4, 12);
    expect(sensitivityToFalseAlarmRate(100)).toBeCloseTo(0.1, 12);
    const scores = exponential(500);
    const low = fitCalibrator(scores, { sensitivity: 20 });
    const high = fitCalibrator(scores, { sensitivity: 90 });
    expect(high.rawThreshold).toBeLessThan(low.rawThreshold);
  });

  it('a generalized Pareto tail holds the target rate on heavy-tailed scores, where the exponential tail alarms too often', () => {
    // Pareto scores with shape 1/3 (tail index 3): the exponential tail underestimates how far normal rows reach.
    const pareto = (n: number) => Float64Array.from({ length: n }, () => (1 - rng()) ** (-1 / 3) - 1);
    const rateOf = (tail: 'exponential' | 'gpd') => {
      let total = 0;
      for (let run = 0; run < 20; run++) {
        const cal = fitCalibrator(pareto(2000), { targetFalseAlarmRate: 0.001, tail });
        const fresh = pareto(50_000);
        total += calibrateAll(cal, fresh).labels.reduce((a, b) => a + b, 0) / fresh.length;
      }
      return total / 20;
    };
    const gpd = rateOf('gpd');
    const exponentialRate = rateOf('exponential');
    expect(Math.abs(gpd - 0.001)).toBeLessThan(0.5 * Math.abs(exponentialRate - 0.001));
    expect(exponentialRate).toBeGreaterThan(1.3 * gpd);
  });

  it('the generalized Pareto fit finds no heavy tail in exponential scores, and never a bounded one', () => {
    const cal = fitCalibrator(exponential(20_000), { targetFalseAlarmRate: 0.001, tail: 'gpd' });
    expect(cal.tailShape).toBeLessThan(0.1);
    const uniformScores = Float64Array.from({ length: 5000 }, () => rng());
    const bounded = fitCalibrator(uniformScores, { tail: 'gpd' });
    expect(bounded.tailShape).toBe(0);
    expect(calibrate(bounded, 2)).toBeGreaterThan(calibrate(bounded, 1.1));
  });

  it('moving the target rate of a fitted calibration gives the threshold a fresh fit at that rate would', () => {
    const scores = exponential(1000);
    const moved = withFalseAlarmRate(fitCalibrator(scores, { targetFalseAlarmRate: 0.01, tail: 'gpd' }), 0.0005);
    const direct = fitCalibrator(scores, { targetFalseAlarmRate: 0.0005, tail: 'gpd' });
    expect(moved).toEqual(direct);
  });
});
