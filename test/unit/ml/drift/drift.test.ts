import { describe, expect, it } from 'vitest';
import { detectDrift, kolmogorovSmirnov, kolmogorovTail, summariseReference } from '../../../../shared/ml/drift/index.js';
import { MissingFeatureError, NonFiniteValueError, ShapeMismatchError } from '../../../../shared/ml/streaming/errors.js';
import { createRng, gaussian } from '../../../../shared/ml/multivariate/rng.js';

const names = ['temperature', 'pressure', 'flow'];

function rows(seed: number, n: number, shift: readonly number[] = [0, 0, 0]): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => [20 + 2 * gaussian(rng) + shift[0], 5 + 0.5 * gaussian(rng) + shift[1], Math.exp(gaussian(rng)) + shift[2]]);
}

describe('detectDrift', () => {
  it('flags a shifted feature as significant and leaves unchanged ones alone', () => {
    const reference = summariseReference(rows(1, 5000), names);
    const report = detectDrift(reference, rows(2, 1000, [0, 0.5, 0]));
    expect(report.verdict).toBe('significant');
    expect(report.driftedFeatures).toEqual(['pressure']);
    const pressure = report.features.find((f) => f.feature === 'pressure');
    expect(pressure?.psi).toBeGreaterThan(0.25);
    expect(pressure?.ks.pValue).toBeLessThan(0.01);
    expect(pressure?.meanShiftSd).toBeCloseTo(1, 0);
  });

  it('reports no drift for fresh data from the same distribution', () => {
    const reference = summariseReference(rows(3, 5000), names);
    for (let seed = 4; seed < 8; seed++) expect(detectDrift(reference, rows(seed, 800)).verdict).toBe('none');
  });

  it('matches current columns by name and keeps the reference compact', () => {
    const reference = summariseReference(rows(9, 20_000), names);
    expect(JSON.stringify(reference).length).toBeLessThan(3 * 12 * 1024);
    const reordered = rows(10, 500).map(([t, p, f]) => [f, 0, p, t]);
    expect(detectDrift(reference, reordered, ['flow', 'extra', 'pressure', 'temperature']).verdict).toBe('none');
  });

  it('rejects missing features, ragged rows and NaN', () => {
    const reference = summariseReference(rows(11, 100), names);
    expect(() => detectDrift(reference, rows(12, 50).map((r) => r.slice(0, 2)), ['temperature', 'pressure'])).toThrow(MissingFeatureError);
    expect(() => detectDrift(reference, [...rows(13, 10), [1, 2]])).toThrow(ShapeMismatchError);
    expect(() => summariseReference([[1, 2, Number.NaN], [1, 2, 3]], names)).toThrow(NonFiniteValueError);
  });

  it('handles a constant reference feature', () => {
    const constant = rows(14, 500).map(([t, p]) => [t, p, 1]);
    const reference = summariseReference(constant, names);
    expect(detectDrift(reference, rows(15, 200).map(([t, p]) => [t, p, 1])).verdict).toBe('none');
    expect(detectDrift(reference, rows(16, 200).map(([t, p]) => [t, p, 2])).driftedFeatures).toEqual(['flow']);
  });
});

describe('Kolmogorov-Smirnov', () => {
  it('uses the Kolmogorov distribution (lambda 1.36 is the 5 % point)', () => {
    expect(kolmogorovTail(1.36)).toBeCloseTo(0.049, 3);
    expect(kolmogorovSmirnov([1, 2, 3], [1, 2, 3]).statistic).toBe(0);
    expect(kolmogorovSmirnov([1, 2, 3], [4, 5, 6]).statistic).toBe(1);
  });
});
