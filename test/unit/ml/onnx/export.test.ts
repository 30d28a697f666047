import { describe, expect, it } from 'vitest';
import { DETECTOR_KINDS, fitDetector, rawScores } from '../../../../shared/ml/multivariate/detector.js';
import { createGaussian, createRng } from '../../../../shared/ml/multivariate/rng.js';
import { exportDetectorToOnnx } from '../../../../shared/ml/onnx/export.js';
import { createOnnxScorer } from '../../../../shared/ml/onnx/scorer.js';
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
