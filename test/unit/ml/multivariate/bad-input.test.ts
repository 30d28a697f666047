import { describe, expect, it } from 'vitest';
import { fitDetector, scoreDetector, DETECTOR_KINDS } from '../../../../shared/ml/multivariate/detector.js';
import { InvalidInputError, type InvalidInputReason } from '../../../../shared/ml/multivariate/errors.js';
import { matrixFromRows, type Matrix } from '../../../../shared/ml/multivariate/matrix.js';
import { fitCalibrator } from '../../../../shared/ml/calibration.js';
import { plantRows } from './synthetic.js';

function expectInvalid(fn: () => unknown, reason: InvalidInputReason, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).reason).toBe(reason);
    expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected an InvalidInputError');
}

function poke(m: Matrix, row: number, col: number, value: number): Matrix {
  const data = Float64Array.from(m.data);
  data[row * m.cols + col] = value;
  return { ...m, data };
}

const train = plantRows(200, 3);

describe.each(DETECTOR_KINDS)('%s refuses bad input with InvalidInputError', (kind) => {
  const detector = fitDetector(train, { detector: kind, autoencoder: { epochs: 2 }, iforest: { trees: 5 } });

  it('NaN and Infinity, naming row and feature', () => {
    expectInvalid(() => fitDetector(poke(train, 7, 2, Number.NaN), { detector: kind }), 'non-finite', /row 7, feature 2 is NaN/);
    expectInvalid(() => scoreDetector(detector, poke(train, 3, 1, Infinity)), 'non-finite', /row 3, feature 1 is Infinity/);
  });

  it('a wrong feature count', () => {
    expectInvalid(() => scoreDetector(detector, { rows: 1, cols: 5, data: new Float64Array(5) }), 'feature-count', /5 features, the model expects 6/);
  });

  it('a single training row', () => {
    expectInvalid(() => fitDetector({ rows: 1, cols: 6, data: new Float64Array(6).fill(1) }, { detector: kind }), 'too-few-rows', /1 row\(s\) given/);
  });
});

describe('other bad input', () => {
  it('ragged rows, unknown detectors and out-of-range options', () => {
    expectInvalid(() => matrixFromRows([[1, 2], [3]]), 'feature-count', /row 1 has 1 features, expected 2/);
    expectInvalid(() => fitDetector(train, { detector: 'lstm' as 'pca' }), 'bad-option', /unknown detector lstm/);
    expectInvalid(() => fitDetector(train, { detector: 'pca', sensitivity: 120 }), 'bad-option', /sensitivity/);
    expectInvalid(() => fitDetector(train, { detector: 'pca', scoreWindow: 0 }), 'bad-option', /scoreWindow/);
    expectInvalid(() => fitDetector(train, { detector: 'pca', featureNames: ['x'] }), 'feature-count', /1 feature names given for 6 columns/);
    expectInvalid(() => fitCalibrator([1]), 'too-few-rows', /at least 2/);
  });
});
