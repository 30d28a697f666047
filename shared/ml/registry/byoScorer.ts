/**
 * An onnxruntime session of a user's own model, run by its declared signature (input name, score
 * and contributions outputs) rather than by a Telltale manifest inside the file.
 */
import * as ort from 'onnxruntime-node';
import { OnnxModelLoadError } from '../onnx/errors.js';
import type { ModelSignature } from '../onnx/manifest.js';
import { loadSession } from '../onnx/session.js';
import type { RawScorer } from './onnxScoring.js';

export interface SignatureScorer extends RawScorer {
  release(): Promise<void>;
}

/** Any numeric tensor as float64 (int64 outputs come as BigInt64Array). */
const asFloat64 = (t: ort.Tensor): Float64Array => (t.data instanceof Float64Array ? t.data : Float64Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v)));

export async function createSignatureScorer(bytes: Uint8Array, signature: ModelSignature): Promise<SignatureScorer> {
  const session = await loadSession(bytes);
  const cols = signature.featureCount;
  const input = session.inputMetadata.find((m) => m.name === signature.inputName);
  const batch = input?.isTensor ? input.shape[0] : undefined;
  // Exports with a fixed batch of 1 (common from torch.onnx without dynamic axes) are run row by row.
  const rowsPerRun = typeof batch === 'number' && batch > 0 ? batch : undefined;

  const run = async (rows: Float32Array, n: number): Promise<{ score: Float64Array; contributions?: Float64Array }> => {
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await session.run({ [signature.inputName]: new ort.Tensor('float32', rows, [n, cols]) });
    } catch (error) {
      throw new OnnxModelLoadError(`the model fails on ${n} row(s): ${(error as Error).message}`, error);
    }
    const score = out[signature.scoreOutput];
    if (!score || score.size !== n) throw new OnnxModelLoadError(`output "${signature.scoreOutput}" gives ${score?.size ?? 0} values for ${n} row(s), expected ${n}`);
    if (!signature.contributionsOutput) return { score: asFloat64(score) };
    const contributions = out[signature.contributionsOutput];
    if (!contributions || contributions.size !== n * cols) {
      throw new OnnxModelLoadError(`output "${signature.contributionsOutput}" gives ${contributions?.size ?? 0} values for ${n} row(s) of ${cols} features, expected ${n * cols}`);
    }
    return { score: asFloat64(score), contributions: asFloat64(contributions) };
  };

  return {
    featureCount: cols,
    async score(rows) {
      const n = rows.length / cols;
      if (rowsPerRun === undefined || rowsPerRun === n) return run(rows, n);
      if (rowsPerRun !== 1) throw new OnnxModelLoadError(`the model takes exactly ${rowsPerRun} rows per run (a fixed batch size); send ${rowsPerRun} rows, or export it with a dynamic batch axis`);
      const score = new Float64Array(n);
      const contributions = signature.contributionsOutput ? new Float64Array(n * cols) : undefined;
      for (let r = 0; r < n; r++) {
        const one = await run(rows.subarray(r * cols, (r + 1) * cols), 1);
        score[r] = one.score[0];
        if (contributions && one.contributions) contributions.set(one.contributions, r * cols);
      }
      return { score, ...(contributions ? { contributions } : {}) };
    },
    release: () => session.release(),
  };
}
