import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fitDetector } from '../../../../shared/ml/multivariate/detector.js';
import { InvalidInputError } from '../../../../shared/ml/multivariate/errors.js';
import { OnnxModelLoadError, OnnxSignatureMismatchError } from '../../../../shared/ml/onnx/errors.js';
import { exportDetectorToOnnx } from '../../../../shared/ml/onnx/export.js';
import { GraphBuilder, encodeModel, tensorValue } from '../../../../shared/ml/onnx/graph.js';
import { inspectOnnxModel } from '../../../../shared/ml/onnx/inspect.js';
import type { ModelSignature } from '../../../../shared/ml/onnx/manifest.js';
import { createOnnxScorer } from '../../../../shared/ml/onnx/scorer.js';
import { plantRows } from '../multivariate/synthetic.js';

const ours = exportDetectorToOnnx(fitDetector(plantRows(200, 9), { detector: 'pca' }));
const signature: ModelSignature = { inputName: 'input', featureCount: 6, scoreOutput: 'score' };

/** A stand-in for a model trained elsewhere: y = sum of the inputs, with names of our choosing. */
function foreignModel(inputName: string, features: number, outputName: string): Uint8Array {
  const g = new GraphBuilder();
  const axes = g.int64s('axes', [1]);
  g.node({ op: 'ReduceSum', inputs: [inputName, axes], outputs: [outputName], ints: { keepdims: 0 } });
  return encodeModel(g, { graphName: 'foreign', inputs: [tensorValue(inputName, 'float', ['batch', features])], outputs: [tensorValue(outputName, 'float', ['batch'])], metadata: {} });
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('bring-your-own ONNX model', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'byo-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts a model whose input and outputs match the declared signature', async () => {
    const info = await inspectOnnxModel(foreignModel('features', 6, 'anomaly_score'), { inputName: 'features', featureCount: 6, scoreOutput: 'anomaly_score' });
    expect(info.inputs[0]).toMatchObject({ name: 'features', type: 'float32', shape: ['batch', 6] });
    expect(info.outputs).toEqual(['anomaly_score']);
    const ourInfo = await inspectOnnxModel(ours, { ...signature, contributionsOutput: 'contributions' });
    expect(ourInfo.metadata['telltale.manifest']).toContain('"detector":"pca"');
  });

  it('refuses bytes that do not load, with OnnxModelLoadError', async () => {
    for (const bytes of [new Uint8Array(), new TextEncoder().encode('not an onnx model'), ours.subarray(0, ours.length / 2)]) {
      const err = await rejection(inspectOnnxModel(bytes, signature));
      expect(err).toBeInstanceOf(OnnxModelLoadError);
      expect(err.message).toMatch(/cannot load|empty/);
    }
  });

  it('refuses a wrong feature count, input name or output name, listing each mismatch', async () => {
    const wrongCount = await rejection(inspectOnnxModel(foreignModel('input', 5, 'score'), signature));
    expect(wrongCount).toBeInstanceOf(OnnxSignatureMismatchError);
    expect(wrongCount.message).toMatch(/takes 5 features, 6 declared/);
    const wrongNames = (await rejection(inspectOnnxModel(foreignModel('x', 6, 'y'), signature))) as OnnxSignatureMismatchError;
    expect(wrongNames.mismatches).toEqual([expect.stringMatching(/no input named "input"/), expect.stringMatching(/no output named "score"/)]);
  });

  it('scores from a file path, and refuses a missing file or partial rows', async () => {
    const file = path.join(dir, 'model.onnx');
    writeFileSync(file, ours);
    const scorer = await createOnnxScorer(file);
    expect((await scorer.score(new Float32Array(12))).score).toHaveLength(2);
    await expect(scorer.score(new Float32Array(7))).rejects.toBeInstanceOf(InvalidInputError);
    await scorer.release();
    expect(await rejection(createOnnxScorer(path.join(dir, 'missing.onnx')))).toBeInstanceOf(OnnxModelLoadError);
  });
});
