import { describe, expect, it } from 'vitest';
import { OnlineChangePointDetector, detectChangePointsOffline, detectChangePointsOnline } from '../../../../shared/ml/changepoint/index.js';
import { NonFiniteValueError, SeriesTooShortError } from '../../../../shared/ml/streaming/errors.js';
import { createRng, gaussian } from '../../../../shared/ml/multivariate/rng.js';

function steps(seed: number, n: number, changes: readonly [number, number][], sigma = 1): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, i) => 100 + changes.filter(([at]) => i >= at).reduce((s, [, size]) => s + size, 0) + sigma * gaussian(rng));
}

describe('offline change points (PELT / binary segmentation)', () => {
  it.each([1, 2, 3])('finds two level changes within 3 points and their sizes (seed %i)', (seed) => {
    const values = steps(seed, 3000, [[1000, 3], [2000, -5]]);
    const found = detectChangePointsOffline(values, { timestamps: values.map((_, i) => 1_700_000_000_000 + i * 60_000) });
    expect(found).toHaveLength(2);
    expect(Math.abs(found[0].index - 1000)).toBeLessThanOrEqual(3);
    expect(Math.abs(found[1].index - 2000)).toBeLessThanOrEqual(3);
    expect(found[0].magnitude).toBeCloseTo(3, 0);
    expect(found[1].magnitudeSigma).toBeLessThan(-4);
    expect(found[0].timestamp).toBe(1_700_000_000_000 + found[0].index * 60_000);
  });

  it('finds no change in noise, also on a long series (binary segmentation)', () => {
    expect(detectChangePointsOffline(steps(4, 3000, []))).toEqual([]);
    expect(detectChangePointsOffline(steps(5, 60_000, [])).length).toBeLessThanOrEqual(1);
    expect(detectChangePointsOffline(steps(6, 60_000, [[30_000, 2]])).map((c) => c.index)).toContainEqual(expect.closeTo(30_000, -1));
  });

  it('finds a variance change with the meanvar cost', () => {
    const rng = createRng(7);
    const values = Array.from({ length: 2000 }, (_, i) => (i < 1000 ? 1 : 4) * gaussian(rng));
    const found = detectChangePointsOffline(values, { cost: 'meanvar' });
    expect(found.some((c) => Math.abs(c.index - 1000) <= 20)).toBe(true);
  });

  it('rejects bad input', () => {
    expect(() => detectChangePointsOffline([1, 2, 3])).toThrow(SeriesTooShortError);
    expect(() => detectChangePointsOffline([...steps(8, 50, []), Number.NaN])).toThrow(NonFiniteValueError);
  });
});

describe('online change points (robust CUSUM)', () => {
  it('confirms each change within 15 points and estimates where it started', () => {
    const values = steps(9, 3000, [[1000, 3], [2000, -5]]);
    const found = detectChangePointsOnline(values);
    expect(found).toHaveLength(2);
    expect(found[0].detectedAt - 1000).toBeLessThanOrEqual(15);
    expect(Math.abs(found[0].index - 1000)).toBeLessThanOrEqual(10);
    expect(found[1].magnitude).toBeLessThan(0);
  });

  it('stays quiet on 20,000 points of noise with spikes', () => {
    const values = steps(10, 20_000, []);
    for (let i = 500; i < values.length; i += 997) values[i] += 12;
    expect(detectChangePointsOnline(values).length).toBeLessThanOrEqual(1);
  });

  it('resumes identically from a serialised state', () => {
    const values = steps(11, 2000, [[1500, 4]]);
    const a = new OnlineChangePointDetector();
    values.slice(0, 700).forEach((v) => a.update(v));
    const b = OnlineChangePointDetector.restore(JSON.parse(JSON.stringify(a.serialize())));
    for (const v of values.slice(700)) expect(b.update(v)).toEqual(a.update(v));
  });
});
