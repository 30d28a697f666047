/**
 * The PCA detector's smoothed raw scores of a block of rows in one pass, with no intermediate
 * matrices: batch scoring spends most of its time here. Every value comes from the same operations
 * in the same order as detectorInputs (slow features' change over `lag` rows, trailing input mean),
 * scorePca and trailingMean on the whole block with no history, so the scores are identical.
 */
import { trailingMean, type FittedDetector, type PcaModel } from '../multivariate/index.js';

export type PcaDetector = FittedDetector & { model: PcaModel };

export const isPcaDetector = (detector: FittedDetector): detector is PcaDetector => detector.model.kind === 'pca';

/** Smoothed raw scores of the rows of `data` (row-major, the detector's features wide). */
export function pcaSmoothedRaw(detector: PcaDetector, data: Float64Array): Float64Array {
  const p = detector.model.mean.length;
  const rows = data.length / p;
  const mean = Float64Array.from(detector.model.mean);
  const std = Float64Array.from(detector.model.std);
  const m = Float64Array.from(detector.model.metric);
  const lag = detector.slow?.lag ?? 0;
  const slow = new Uint8Array(p);
  for (const c of detector.slow?.features ?? []) slow[c] = 1;
  const window = detector.inputWindow;
  const sum = new Float64Array(p);
  // The last `window` input rows, so the one leaving the window is subtracted as it was added.
  const recent = new Float64Array(window * p);
  const z = new Float64Array(p);
  const s = new Float64Array(p);
  const raw = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * p;
    // A slow feature enters as its change since row r - lag (row 0 before the start).
    const back = Math.max(0, r - lag) * p;
    const n = Math.min(window, r + 1);
    const k = (r % window) * p;
    for (let c = 0; c < p; c++) {
      let v = slow[c] === 1 ? data[o + c] - data[back + c] : data[o + c];
      if (window > 1) {
        sum[c] += v;
        if (r >= window) sum[c] -= recent[k + c];
        recent[k + c] = v;
        v = sum[c] / n;
      }
      z[c] = (v - mean[c]) / std[c];
    }
    // s_i = sum over j (in order) of z_j M_ji: all p sums advance together (independent chains), each
    // adding its terms in the order scorePca does.
    s.fill(0);
    for (let j = 0; j < p; j++) {
      const zj = z[j];
      for (let i = 0; i < p; i++) s[i] += zj * m[j * p + i];
    }
    let phi = 0;
    for (let i = 0; i < p; i++) phi += s[i] * z[i];
    raw[r] = phi;
  }
  return trailingMean(raw, detector.scoreWindow);
}
