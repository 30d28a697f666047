/**
 * Accepting a user's own ONNX model (PyTorch, scikit-learn, ...): it must load in onnxruntime, take a
 * float tensor named as declared with the declared feature count, produce the declared outputs, and
 * survive one dry run on a row of zeros (which catches models that load but cannot execute).
 */
import * as ort from 'onnxruntime-node';
import { OnnxModelLoadError, OnnxSignatureMismatchError } from './errors.js';
import type { ModelSignature } from './manifest.js';
import { declaredFeatureCount, readMetadata } from './scorer.js';
import { loadSession } from './session.js';

export interface OnnxModelInfo {
  inputs: { name: string; type: string; shape: (number | string)[] }[];
  outputs: string[];
  metadata: Record<string, string>;
}

function describeValues(metas: readonly ort.InferenceSession.ValueMetadata[]): OnnxModelInfo['inputs'] {
  return metas.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] }));
}

function signatureMismatches(session: ort.InferenceSession, sig: ModelSignature): string[] {
  const problems: string[] = [];
  if (session.inputNames.length !== 1) problems.push(`expected 1 input, the model has ${session.inputNames.length} (${session.inputNames.join(', ')})`);
  const input = session.inputMetadata.find((m) => m.name === sig.inputName);
  if (!input) problems.push(`no input named "${sig.inputName}" (inputs: ${session.inputNames.join(', ')})`);
  else if (!input.isTensor || input.type !== 'float32') problems.push(`input "${sig.inputName}" must be a float32 tensor, it is ${input.isTensor ? input.type : 'not a tensor'}`);
  else {
    const count = declaredFeatureCount(session);
    if (input.shape.length !== 2) problems.push(`input "${sig.inputName}" must be 2-D [rows, features], its shape is [${input.shape.join(', ')}]`);
    else if (count !== undefined && count !== sig.featureCount) problems.push(`input "${sig.inputName}" takes ${count} features, ${sig.featureCount} declared`);
  }
  for (const name of [sig.scoreOutput, sig.contributionsOutput]) {
    if (name !== undefined && !session.outputNames.includes(name)) problems.push(`no output named "${name}" (outputs: ${session.outputNames.join(', ')})`);
  }
  return problems;
}

/** Runs one row of zeros and checks the score output has one value per row. */
async function dryRun(session: ort.InferenceSession, sig: ModelSignature): Promise<string[]> {
  let out: ort.InferenceSession.OnnxValueMapType;
  try {
    out = await session.run({ [sig.inputName]: new ort.Tensor('float32', new Float32Array(sig.featureCount), [1, sig.featureCount]) });
  } catch (err) {
    throw new OnnxModelLoadError(`the model loads but fails on a row of ${sig.featureCount} features: ${(err as Error).message}`, err);
  }
  const score = out[sig.scoreOutput];
  return score && score.size === 1 ? [] : [`output "${sig.scoreOutput}" gives ${score?.size ?? 0} values for 1 row, expected 1`];
}

/** Loads and checks a model; returns what it declares, or throws OnnxModelLoadError / OnnxSignatureMismatchError. */
export async function inspectOnnxModel(bytes: Uint8Array, signature: ModelSignature): Promise<OnnxModelInfo> {
  if (bytes.length === 0) throw new OnnxModelLoadError('the model is empty (0 bytes)');
  const session = await loadSession(bytes);
  try {
    const mismatches = signatureMismatches(session, signature);
    if (mismatches.length > 0) throw new OnnxSignatureMismatchError(mismatches);
    const afterRun = await dryRun(session, signature);
    if (afterRun.length > 0) throw new OnnxSignatureMismatchError(afterRun);
    return { inputs: describeValues(session.inputMetadata), outputs: [...session.outputNames], metadata: (await readMetadata(bytes)) ?? {} };
  } finally {
    await session.release();
  }
}
