import { describe, expect, it } from 'vitest';
import { isPcaDetector, pcaSmoothedRaw } from '../../../../shared/ml/batch/pca-rows.js';
import { detectorInputs, fitDetector, rawScores, trailingMean, type DetectorOptions } from '../../../../shared/ml/multivariate/index.js';
import { createGaussian, createRng } from '../../../../shared/ml/multivariate/rng.js';

/** Four sensors: two correlated, one drifting slowly (a slow feature), one noisy; a fault after row 500. */
function rows(n: number): Float64Array {
  const g = createGaussian(createRng(3));
  const data = new Float64Array(n * 4);
  for (let r = 0; r < n; r++) {
    const x = g();
    data.set([x, 0.7 * x + 0.3 * g() + (r > 500 && r < 540 ? 3 : 0), 10 + r / 40 + 0.02 * g(), 2 * g()], r * 4);
  }
  return data;
}

describe('the PCA detector scored in one pass', () => {
  const data = rows(900);
  const variants: DetectorOptions[] = [
    { detector: 'pca' },
    { detector: 'pca', inputWindow: 30, scoreWindow: 30, slowFeatures: true },
    { detector: 'pca', inputWindow: 5, scoreWindow: 1, slowFeatures: { lag: 20 }, driftHorizon: 200 },
    { detector: 'pca', inputWindow: 1, scoreWindow: 7, slowFeatures: { lag: 1000 } },
  ];

  it.each(variants)('gives, bit for bit, the smoothed raw scores of the detector inputs, model and score window (%o)', (options) => {
    const detector = fitDetector({ rows: 300, cols: 4, data: data.slice(0, 1200) }, options);
    if (!isPcaDetector(detector)) throw new Error('not a PCA detector');
    const expected = trailingMean(rawScores(detector.model, detectorInputs(detector, { rows: 900, cols: 4, data }), false).raw, detector.scoreWindow);
    const got = pcaSmoothedRaw(detector, data);
    expect(got.length).toBe(900);
    for (let r = 0; r < 900; r++) if (!Object.is(got[r], expected[r])) expect.fail(`row ${r}: ${got[r]} != ${expected[r]}`);
  });

  it('is used for PCA detectors only', () => {
    expect(isPcaDetector(fitDetector({ rows: 300, cols: 4, data: data.slice(0, 1200) }, { detector: 'pca' }))).toBe(true);
    expect(isPcaDetector(fitDetector({ rows: 300, cols: 4, data: data.slice(0, 1200) }, { detector: 'iforest' }))).toBe(false);
  });
});
