import { describe, expect, it } from 'vitest';
import { DETECTOR_KINDS, fitDetector, scoreDetector } from '../../../../shared/ml/multivariate/detector.js';
import type { Matrix } from '../../../../shared/ml/multivariate/matrix.js';
import { plantRows, SENSORS } from './synthetic.js';

/** `m` with a seventh column: `value(row)`. */
function withColumn(m: Matrix, value: (row: number) => number): Matrix {
  const cols = m.cols + 1;
  const data = new Float64Array(m.rows * cols);
  for (let r = 0; r < m.rows; r++) {
    data.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), r * cols);
    data[r * cols + m.cols] = value(r);
  }
  return { rows: m.rows, cols, data };
}

const share = (labels: Uint8Array) => labels.reduce((a, b) => a + b, 0) / labels.length;

describe.each(DETECTOR_KINDS)('%s with a feature that sat flat in the training rows', (kind) => {
  const options = { detector: kind, autoencoder: { epochs: 30 }, iforest: { trees: 50 }, targetFalseAlarmRate: 0.01 } as const;
  const train = plantRows(400, 3);
  const fresh = plantRows(400, 4);
  const flat = fitDetector(withColumn(train, () => 42), options);

  it('fits, and the flat feature does not dominate while it stays flat', () => {
    const without = fitDetector(train, options);
    const labelsWith = scoreDetector(flat, withColumn(fresh, () => 42)).labels;
    const labelsWithout = scoreDetector(without, fresh).labels;
    expect(Math.abs(share(labelsWith) - share(labelsWithout))).toBeLessThan(0.03);
  });

  it(kind === 'iforest' ? 'a departure from the constant is not seen (a known limit of the forest)' : 'a departure from the constant is news', () => {
    const moved = scoreDetector(flat, withColumn(fresh, (r) => (r >= 200 ? 43 : 42)));
    if (kind === 'iforest') {
      // Trees split between a node's minimum and maximum, so the isolation forest cannot see a feature that never moved:
      // the moved rows score as the unmoved ones would (the README says so).
      expect(Array.from(moved.scores)).toEqual(Array.from(scoreDetector(flat, withColumn(fresh, () => 42)).scores));
      return;
    }
    expect(share(moved.labels.subarray(200))).toBeGreaterThan(0.9);
    expect(share(moved.labels.subarray(0, 200))).toBeLessThan(0.1);
    expect(moved.contributions[300 * (SENSORS + 1) + SENSORS]).toBeGreaterThan(0.5);
  });
});
