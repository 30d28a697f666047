import { describe, expect, it } from 'vitest';
import { detectorInputs, fitDetector, roughness, scoreDetector, type DetectorOptions } from '../../../../shared/ml/multivariate/detector.js';
import { sliceRows, type Matrix } from '../../../../shared/ml/multivariate/matrix.js';
import { createGaussian, createRng } from '../../../../shared/ml/multivariate/rng.js';
import { InvalidInputError } from '../../../../shared/ml/multivariate/errors.js';

/**
 * A small plant: flow and pressure (noisy, tied to a latent load), vibration (noise), and a motor
 * temperature that drifts slowly (a random walk with a trend) and carries no fault information.
 * Rows 0-399 train; the temperature keeps drifting after them; a flow drop hits rows [700, 900).
 */
const COLS = 4;
function plant(rows: number, seed: number, faultStart = 700, faultEnd = 900, drop = 0): Matrix {
  const g = createGaussian(createRng(seed));
  const data = new Float64Array(rows * COLS);
  let temp = 60;
  for (let r = 0; r < rows; r++) {
    const load = g();
    temp += 0.01 + 0.02 * g();
    const fault = r >= faultStart && r < faultEnd ? drop : 0;
    data.set([120 + 2 * load + 0.5 * g() - fault, 1 + 0.1 * load + 0.05 * g(), 0.2 + 0.01 * g(), temp], r * COLS);
  }
  return { rows, cols: COLS, data };
}

const share = (labels: Uint8Array, a: number, b: number) => labels.subarray(a, b).reduce((s, v) => s + v, 0) / (b - a);
const DRIFT_ROBUST: Partial<DetectorOptions> = { inputWindow: 10, scoreWindow: 10, slowFeatures: true };

describe('slow-feature differencing', () => {
  it('finds the smooth column by roughness alone', () => {
    const r = roughness(sliceRows(plant(400, 1), 0, 400));
    expect(r[3]).toBeLessThan(0.5);
    for (const c of [0, 1, 2]) expect(r[c]).toBeGreaterThan(0.8);
    const d = fitDetector(sliceRows(plant(400, 1), 0, 400), { detector: 'pca', slowFeatures: true });
    expect(d.slow).toEqual({ features: [3], lag: 60 });
  });

  it('refuses bad options with InvalidInputError', () => {
    const train = sliceRows(plant(400, 1), 0, 400);
    expect(() => fitDetector(train, { detector: 'pca', slowFeatures: { lag: 0 } })).toThrow(InvalidInputError);
    expect(() => fitDetector(train, { detector: 'mset', calibrationFolds: 0 })).toThrow(InvalidInputError);
    expect(() => fitDetector(train, { detector: 'mset', mset: { memorySize: 1 } })).toThrow(InvalidInputError);
  });
});

describe.each(['mset', 'pca'] as const)('%s on a drifting plant', (kind) => {
  const rows = plant(1200, 3, 700, 900, 8);
  const train = sliceRows(rows, 0, 400);
  const robust = fitDetector(train, { detector: kind, ...DRIFT_ROBUST });
  const result = scoreDetector(robust, rows);

  it('flags the flow drop and stays quiet while the temperature drifts away from its training level', () => {
    expect(share(result.labels, 720, 900)).toBeGreaterThan(0.8);
    expect(share(result.labels, 400, 700)).toBeLessThan(0.05);
    expect(share(result.labels, 960, 1200)).toBeLessThan(0.05);
    // Without the differencing the drifted temperature alone raises alarms on normal rows.
    const naive = scoreDetector(fitDetector(train, { detector: kind, inputWindow: 10, scoreWindow: 10 }), rows);
    expect(share(naive.labels, 960, 1200)).toBeGreaterThan(0.5);
  });

  it('names the flow as the driver of the alarm', () => {
    const total = new Float64Array(COLS);
    for (let r = 720; r < 900; r++) for (let c = 0; c < COLS; c++) total[c] += result.contributions[r * COLS + c];
    expect(total.indexOf(Math.max(...total))).toBe(0);
  });

  it('scores a stream in batches exactly as in one pass, and no row depends on later rows', () => {
    const parts = [0, 37, 150, 151, 600, 1200];
    let state = undefined;
    const joined: number[] = [];
    for (let i = 0; i + 1 < parts.length; i++) {
      const r = scoreDetector(robust, sliceRows(rows, parts[i], parts[i + 1]), state);
      joined.push(...r.raw);
      state = r.state;
    }
    joined.forEach((v, i) => expect(v).toBeCloseTo(result.raw[i], 10));
    const changedLater = plant(1200, 3, 1000, 1200, 30);
    const other = scoreDetector(robust, changedLater);
    const clean = scoreDetector(robust, plant(1200, 3, 700, 700, 0));
    expect(other.raw.subarray(0, 1000)).toEqual(clean.raw.subarray(0, 1000));
  });

  it('survives a JSON round trip, slow-feature transform included', () => {
    const copy = JSON.parse(JSON.stringify(robust)) as typeof robust;
    expect(scoreDetector(copy, sliceRows(rows, 0, 300)).raw).toEqual(scoreDetector(robust, sliceRows(rows, 0, 300)).raw);
    expect(detectorInputs(copy, sliceRows(rows, 0, 50)).data).toEqual(detectorInputs(robust, sliceRows(rows, 0, 50)).data);
  });
});
