/** Loading an onnxruntime session from bytes or a path, with load failures turned into OnnxModelLoadError. */
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { OnnxModelLoadError } from './errors.js';
import { assertSafeModel } from './modelGuard.js';

export type ModelSource = Uint8Array | string;

export async function readModelBytes(source: ModelSource): Promise<Uint8Array> {
  if (typeof source !== 'string') return source;
  try {
    return new Uint8Array(await readFile(source));
  } catch (err) {
    throw new OnnxModelLoadError(`cannot read the model file ${source}: ${(err as Error).message}`, err);
  }
}

/** Every session starts here, so registration, predict and training all refuse what modelGuard refuses. */
export async function loadSession(bytes: Uint8Array): Promise<ort.InferenceSession> {
  // Always from bytes, never a path: onnxruntime then has no model folder to resolve anything against.
  assertSafeModel(bytes);
  try {
    // One intra-op thread: Lambda gives a fraction of a core and small batches gain nothing from more.
    return await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  } catch (err) {
    throw new OnnxModelLoadError(`onnxruntime cannot load the model: ${(err as Error).message}`, err);
  }
}
