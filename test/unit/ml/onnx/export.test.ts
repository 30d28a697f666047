import { describe, expect, it } from 'vitest';
import { DETECTOR_KINDS, detectorInputs, fitDetector, rawScores, scoreDetector } from '../../../../shared/ml/multivariate/detector.js';
import { createGaussian, createRng } from '../../../../shared/ml/multivariate/rng.js';
import { exportDetectorToOnnx } from '../../../../shared/ml/onnx/export.js';
import { createOnnxScorer } from '../../../../shared/ml/onnx/scorer.js';
import { OnnxExportUnsupportedError } from '../../../../shared/ml/onnx/errors.js';
import { modelManifestSchema } from '../../../../shared/ml/onnx/manifest.js';
import { plantRows, SENSORS } from '../multivariate/synthetic.js';

const gauss = createGaussian(createRng(5));
/** Random rows, float32-representable so both sides see the same input; wider than training to reach the tails. */
function randomRows(rows: number): Float64Array {
  return Float64Array.from({ length: rows * SENSORS }, () => Math.fround(3 * gauss()));
}

describe.each(DETECTOR_KINDS)('ONNX export of %s', (kind) => {
  const detector = fitDetector(plantRows(600, 4), { detector: kind, autoencoder: { epochs: 20 }, iforest: { trees: 40 } });
  const bytes = exportDetectorToOnnx(detector);

  it('onnxruntime reproduces the TypeScript raw score and contributions to 1e-5', async () => {
    const rows = randomRows(300);
    const expected = rawScores(detector.model, { rows: 300, cols: SENSORS, data: rows });
    const scorer = await createOnnxScorer(bytes);
    const got = await scorer.score(Float32Array.from(rows));
    expect(got.score).toHaveLength(300);
    got.score.forEach((v, i) => expect(Math.abs(v - expected.raw[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected.raw[i]))));
    got.contributions!.forEach((v, i) => expect(Math.abs(v - expected.contributions[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected.contributions[i]))));
    await scorer.release();
  });

  it('carries a valid manifest with features, threshold and training metrics', async () => {
    const scorer = await createOnnxScorer(bytes);
    const manifest = modelManifestSchema.parse(scorer.manifest);
    expect(manifest.detector).toBe(kind);
    expect(manifest.features).toEqual(detector.featureNames);
    expect(manifest.calibration.rawThreshold).toBe(detector.calibration.rawThreshold);
    expect(manifest.training.rows).toBe(600);
    expect(scorer.featureCount).toBe(SENSORS);
    await scorer.release();
  });
});

describe('ONNX export edge cases', () => {
  it('refuses a detector kind it cannot export with a typed error', () => {
    const detector = fitDetector(plantRows(200, 4), { detector: 'pca' });
    const bogus = { ...detector, model: { ...detector.model, kind: 'ensemble' } } as unknown as typeof detector;
    expect(() => exportDetectorToOnnx(bogus)).toThrow(OnnxExportUnsupportedError);
  });

  it('an MSET model with slow features reproduces the raw scores from the transformed inputs and declares the transform', async () => {
    const train = plantRows(400, 6);
    // Column 0 made smooth (a slow drift), so it is differenced.
    let walk = 0;
    for (let r = 0; r < train.rows; r++) train.data[r * SENSORS] = Math.fround((walk += 0.01 * gauss()));
    const detector = fitDetector(train, { detector: 'mset', inputWindow: 3, slowFeatures: { lag: 5 } });
    expect(detector.slow?.features).toEqual([0]);
    const rows = { rows: 200, cols: SENSORS, data: randomRows(200) };
    const expected = scoreDetector(detector, rows).raw;
    const inputs = detectorInputs(detector, rows);
    const scorer = await createOnnxScorer(exportDetectorToOnnx(detector));
    const got = await scorer.score(Float32Array.from(inputs.data));
    // The graph sees float32 inputs: compare against the TypeScript raw score of the same float32 rows.
    const ts = rawScores(detector.model, { ...inputs, data: Float64Array.from(Float32Array.from(inputs.data)) }).raw;
    got.score.forEach((v, i) => expect(Math.abs(v - ts[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(ts[i]))));
    got.score.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThanOrEqual(1e-3 * Math.max(1, Math.abs(expected[i]))));
    expect(scorer.manifest?.slowFeatures).toEqual({ features: [0], lag: 5 });
    await scorer.release();
  });
});
