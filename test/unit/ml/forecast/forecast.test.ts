import { describe, expect, it } from 'vitest';
import { detectPeriod, forecastSeries } from '../../../../shared/ml/forecast/index.js';
import { InvalidParameterError, NonFiniteValueError, SeriesTooShortError } from '../../../../shared/ml/streaming/errors.js';
import { createRng, gaussian } from '../../../../shared/ml/multivariate/rng.js';

function seasonal(seed: number, n: number, period = 24, slope = 0.02): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, i) => 50 + slope * i + 10 * Math.sin((2 * Math.PI * i) / period) + 4 * Math.cos((4 * Math.PI * i) / period) + gaussian(rng));
}

describe('forecastSeries', () => {
  it('detects the season, picks Holt-Winters and beats the naive seasonal forecast on a hold-out', () => {
    const result = forecastSeries(seasonal(1, 24 * 20), { horizon: 48, holdout: 72 });
    expect(result.model.period).toBe(24);
    expect(result.model.kind).toBe('holt_winters');
    expect(result.accuracy?.beatsNaive).toBe(true);
    expect(result.accuracy?.mase).toBeLessThan(1);
    expect(result.points).toHaveLength(48);
    expect(result.points[47].upper - result.points[47].lower).toBeGreaterThan(result.points[0].upper - result.points[0].lower);
  });

  it('covers about the nominal share of hold-out points with its 95 % intervals', () => {
    let covered = 0;
    let total = 0;
    for (let seed = 2; seed < 10; seed++) {
      const accuracy = forecastSeries(seasonal(seed, 24 * 15, 24, 0), { horizon: 24, holdout: 48 }).accuracy;
      covered += (accuracy?.coverage ?? 0) * 48;
      total += 48;
    }
    expect(covered / total).toBeGreaterThan(0.88);
    expect(covered / total).toBeLessThanOrEqual(0.995);
  });

  it('falls back to a non-seasonal model when there is no season, and stamps forecasts', () => {
    const rng = createRng(11);
    let level = 10;
    const values = Array.from({ length: 300 }, () => (level += 0.3 + 0.1 * gaussian(rng)));
    const timestamps = values.map((_, i) => 1_000 + i * 60_000);
    const result = forecastSeries(values, { horizon: 5, timestamps });
    expect(result.model.period).toBe(1);
    expect(result.model.kind).toBe('holt');
    expect(result.points[0].timestamp).toBe(timestamps[299] + 60_000);
    expect(result.points[4].mean).toBeGreaterThan(values[299]);
  });

  it('rejects bad input with typed errors', () => {
    expect(() => forecastSeries([1, 2, 3], { horizon: 2 })).toThrow(SeriesTooShortError);
    expect(() => forecastSeries(seasonal(12, 30), { horizon: 2, period: 0 })).toThrow(InvalidParameterError);
    expect(() => forecastSeries(seasonal(12, 40), { horizon: 2, period: 24 })).toThrow(/two seasons/);
    expect(() => forecastSeries([...seasonal(13, 50), Number.NaN], { horizon: 2 })).toThrow(NonFiniteValueError);
    expect(() => forecastSeries(seasonal(14, 100), { horizon: 0 })).toThrow(InvalidParameterError);
  });

  it('forecasts a constant series flat with no error and no MASE', () => {
    const result = forecastSeries(Array.from({ length: 50 }, () => 7), { horizon: 3 });
    expect(result.points.map((p) => p.mean)).toEqual([7, 7, 7]);
    expect(result.accuracy?.mase).toBeNull();
  });
});

describe('detectPeriod', () => {
  it('finds the fundamental, not a harmonic, and no season in noise', () => {
    expect(detectPeriod(seasonal(15, 600, 50, 0)).period).toBe(50);
    const rng = createRng(16);
    expect(detectPeriod(Array.from({ length: 600 }, () => gaussian(rng))).period).toBe(1);
  });
});
