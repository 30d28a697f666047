import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitDetector } from '../../../../shared/ml/multivariate/detector.js';
import { OnnxModelLoadError } from '../../../../shared/ml/onnx/errors.js';
import { exportDetectorToOnnx } from '../../../../shared/ml/onnx/export.js';
import { inspectOnnxModel } from '../../../../shared/ml/onnx/inspect.js';
import { assertSafeModel, OnnxModelRefusedError } from '../../../../shared/ml/onnx/modelGuard.js';
import { createOnnxScorer } from '../../../../shared/ml/onnx/scorer.js';
import { createSignatureScorer } from '../../../../shared/ml/registry/byoScorer.js';
import { plantRows } from '../multivariate/synthetic.js';
import { hostile } from './hostileModels.js';

const signature = { inputName: 'features', featureCount: 3, scoreOutput: 'anomaly_score' };

function refusal(bytes: Uint8Array): OnnxModelRefusedError {
  try {
    assertSafeModel(bytes);
  } catch (error) {
    if (error instanceof OnnxModelRefusedError) return error;
    throw error;
  }
  throw new Error('expected the model to be refused');
}

describe('the model guard, before onnxruntime sees a model', () => {
  // A stand-in for the function's own files (code, keys) next to where onnxruntime resolves external data.
  const cwd = process.cwd();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'model-guard-'));
  beforeAll(() => {
    writeFileSync(path.join(dir, 'secret.bin'), Buffer.from(new Float32Array([1.5, 2.5, 3.5]).buffer));
    process.chdir(dir);
  });
  afterAll(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['an initialiser', hostile.initializer, /initializer "w" of the graph reads external data/],
    ['a Constant node attribute', hostile.constantAttribute, /attribute "value" of node Constant .* reads external data/],
    ['an If branch initialiser', hostile.subgraph, /initializer "inner" of the subgraph in attribute "then_branch" of node If/],
    ['an If inside an If branch', hostile.nestedSubgraph, /initializer "inner" of the subgraph in attribute "then_branch" of node If .* in the subgraph in attribute "then_branch"/],
    ['a sparse initialiser', hostile.sparseInitializer, /sparse initializer of the graph reads external data/],
    ['a local function attribute default (a field onnx-proto does not know)', hostile.functionAttributeDefault, /attribute "v" of function "leak" reads external data/],
  ])('refuses external data in %s', (_where, build, reason) => {
    expect(refusal(build('secret.bin')).reason).toMatch(reason);
  });

  it('refuses declared sizes that would exhaust memory, and graphs with too many nodes', () => {
    expect(refusal(hostile.hugeTensor()).reason).toMatch(/initializer "w" of the graph declares 40000000000 bytes, over 67108864/);
    expect(refusal(hostile.hugeInput()).reason).toMatch(/value "features" of the graph declares 10000000000 elements/);
    expect(refusal(hostile.tooManyNodes()).reason).toMatch(/more than 50000 nodes/);
    // A sequence of a sequence of ... 500 deep.
    let type: object = { tensorType: { elemType: 1 } };
    for (let i = 0; i < 500; i++) type = { sequenceType: { elemType: type } };
    const deep = onnxProto.onnx.ModelProto.encode({ irVersion: 8, graph: { name: 'g', input: [{ name: 'x', type }] } }).finish();
    expect(refusal(deep).reason).toMatch(/value "x" of the graph nests types deeper than 16 levels/);
    // Split into two occurrences of the same field, which a parser merges: checked merged.
    expect(refusal(hostile.splitTensor()).reason).toMatch(/attribute "value" of node Constant .* declares 40000000000 bytes/);
  });

  it('passes the models Telltale exports, of every family', () => {
    for (const detector of ['pca', 'autoencoder', 'mset', 'iforest'] as const) {
      expect(() => assertSafeModel(exportDetectorToOnnx(fitDetector(plantRows(200, 3), { detector })))).not.toThrow();
    }
  });

  it('no loader gives onnxruntime a model that reads a file of the working directory: the dry run, predict\'s scorers', async () => {
    // onnxruntime reads an If branch's external initialiser even with every optimisation on: without the guard this scores 7.5.
    const bytes = hostile.subgraph('secret.bin');
    await expect(inspectOnnxModel(bytes, signature)).rejects.toBeInstanceOf(OnnxModelRefusedError);
    await expect(createSignatureScorer(bytes, signature)).rejects.toBeInstanceOf(OnnxModelRefusedError);
    await expect(createOnnxScorer(bytes)).rejects.toBeInstanceOf(OnnxModelRefusedError);
  });

  it('refuses bytes that are no protobuf as a load error, before onnxruntime', () => {
    expect(() => assertSafeModel(new TextEncoder().encode('not an onnx model'))).toThrow(OnnxModelLoadError);
  });
});
