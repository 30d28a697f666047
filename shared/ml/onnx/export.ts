/**
 * ONNX export of each fitted multivariate family. Every model takes `input` (float32, N x features,
 * the rows after the detector's input smoothing) and returns `score` (float64, N: the family's raw
 * score, as `rawScores` computes it) and `contributions` (float64, N x features). Calibration and the
 * trailing score window are applied by the caller from the manifest, because they are stateful or
 * cheap and must stay identical to the TypeScript path.
 */
import type { AutoencoderModel } from '../multivariate/autoencoder.js';
import type { FittedDetector } from '../multivariate/detector.js';
import type { IsolationForestModel } from '../multivariate/isolation-forest.js';
import type { MsetModel } from '../multivariate/mset.js';
import type { PcaModel } from '../multivariate/pca.js';
import { GraphBuilder, encodeModel, onnx, tensorValue } from './graph.js';
import { buildManifest, MANIFEST_METADATA_KEY } from './manifest.js';
import { OnnxExportUnsupportedError } from './errors.js';

export const INPUT_NAME = 'input';
export const SCORE_OUTPUT = 'score';
export const CONTRIBUTIONS_OUTPUT = 'contributions';

/** Cast to double, then (x - mean) / std: the standardisation every linear family starts with. */
function standardisedInput(g: GraphBuilder, mean: readonly number[], std: readonly number[]): string {
  const p = mean.length;
  const x = g.op('Cast', [INPUT_NAME], { ints: { to: onnx.TensorProto.DataType.DOUBLE } });
  const centred = g.op('Sub', [x, g.doubles('mean', mean, [p])]);
  return g.op('Div', [centred, g.doubles('std', std, [p])]);
}

function rowSum(g: GraphBuilder, x: string, out?: string): string {
  const axes = g.int64s('axes', [1]);
  if (out) {
    g.node({ op: 'ReduceSum', inputs: [x, axes], outputs: [out], ints: { keepdims: 0 } });
    return out;
  }
  return g.op('ReduceSum', [x, axes], { ints: { keepdims: 0 } });
}

/** phi = z' M z and contributions (M z)² / diag(M). */
function buildPca(g: GraphBuilder, m: PcaModel): void {
  const p = m.mean.length;
  const z = standardisedInput(g, m.mean, m.std);
  const mz = g.op('MatMul', [z, g.doubles('metric', m.metric, [p, p])]);
  rowSum(g, g.op('Mul', [mz, z]), SCORE_OUTPUT);
  const diag = Array.from({ length: p }, (_, i) => m.metric[i * p + i]);
  g.node({ op: 'Div', inputs: [g.op('Mul', [mz, mz]), g.doubles('diag', diag, [p])], outputs: [CONTRIBUTIONS_OUTPUT] });
}

/** Dense layers, then mean squared error against the standardised input. */
function buildAutoencoder(g: GraphBuilder, m: AutoencoderModel): void {
  const p = m.mean.length;
  const z = standardisedInput(g, m.mean, m.std);
  let h = z;
  for (const layer of m.layers) {
    const lin = g.op('Add', [g.op('MatMul', [h, g.doubles('w', layer.weights, [layer.inputs, layer.outputs])]), g.doubles('b', layer.bias, [layer.outputs])]);
    h = layer.activation === 'tanh' ? g.op('Tanh', [lin]) : lin;
  }
  const diff = g.op('Sub', [h, z]);
  g.node({ op: 'Mul', inputs: [diff, diff], outputs: [CONTRIBUTIONS_OUTPUT] });
  g.node({ op: 'Mul', inputs: [rowSum(g, CONTRIBUTIONS_OUTPUT), g.doubles('inv_p', [1 / p], [])], outputs: [SCORE_OUTPUT] });
}

/**
 * MSET: squared distances to the memory states |z|² - 2 z Dᵀ + |d|² (clipped at 0 like the
 * TypeScript path), similarities exp(-gamma d²), estimate s W, then squared residuals.
 */
function buildMset(g: GraphBuilder, m: MsetModel): void {
  const p = m.mean.length;
  const states = m.memoryNorms.length;
  const z = standardisedInput(g, m.mean, m.std);
  const zz = g.op('ReduceSum', [g.op('Mul', [z, z]), g.int64s('axes', [1])], { ints: { keepdims: 1 } });
  const memoryT = new Array<number>(p * states);
  for (let i = 0; i < states; i++) for (let c = 0; c < p; c++) memoryT[c * states + i] = m.memory[i * p + c];
  const dot = g.op('MatMul', [z, g.doubles('memory_t', memoryT, [p, states])]);
  const d2 = g.op('Add', [g.op('Sub', [zz, g.op('Mul', [dot, g.doubles('two', [2], [])])]), g.doubles('memory_norms', m.memoryNorms, [states])]);
  const similarity = g.op('Exp', [g.op('Mul', [g.op('Relu', [d2]), g.doubles('neg_gamma', [-m.gamma], [])])]);
  const estimate = g.op('MatMul', [similarity, g.doubles('weights', m.weights, [states, p])]);
  const diff = g.op('Sub', [z, estimate]);
  g.node({ op: 'Mul', inputs: [diff, diff], outputs: [CONTRIBUTIONS_OUTPUT] });
  g.node({ op: 'Mul', inputs: [rowSum(g, CONTRIBUTIONS_OUTPUT), g.doubles('inv_p', [1 / p], [])], outputs: [SCORE_OUTPUT] });
}

interface TreeArrays {
  treeIds: number[];
  nodeIds: number[];
  featureIds: number[];
  values: number[];
  modes: string[];
  trueIds: number[];
  falseIds: number[];
  targetTreeIds: number[];
  targetNodeIds: number[];
  targetIds: number[];
  targetWeights: number[];
}

/**
 * The forest as one TreeEnsembleRegressor with 1 + features targets: target 0 sums each leaf's path
 * length / trees (the mean path length), targets 1.. sum the leaves' per-feature credit / trees.
 */
function forestArrays(m: IsolationForestModel): TreeArrays {
  const a: TreeArrays = { treeIds: [], nodeIds: [], featureIds: [], values: [], modes: [], trueIds: [], falseIds: [], targetTreeIds: [], targetNodeIds: [], targetIds: [], targetWeights: [] };
  const nTrees = m.trees.length;
  m.trees.forEach((tree, t) => {
    tree.feature.forEach((f, n) => {
      const leaf = f < 0;
      a.treeIds.push(t);
      a.nodeIds.push(n);
      a.featureIds.push(leaf ? 0 : f);
      a.values.push(leaf ? 0 : tree.threshold[n]);
      a.modes.push(leaf ? 'LEAF' : 'BRANCH_LT');
      a.trueIds.push(leaf ? 0 : tree.left[n]);
      a.falseIds.push(leaf ? 0 : tree.right[n]);
      if (!leaf) return;
      const weights = [tree.pathLength[n], ...tree.leafCredit[n]];
      weights.forEach((w, target) => {
        if (w === 0 && target > 0) return;
        a.targetTreeIds.push(t);
        a.targetNodeIds.push(n);
        a.targetIds.push(target);
        a.targetWeights.push(w / nTrees);
      });
    });
  });
  return a;
}

/** Mean path length from the ensemble, then 2^(-h / c) in double. */
function buildIsolationForest(g: GraphBuilder, m: IsolationForestModel): void {
  const p = m.features;
  const a = forestArrays(m);
  const sums = g.name('tree_sums');
  g.node({
    op: 'TreeEnsembleRegressor',
    domain: 'ai.onnx.ml',
    inputs: [INPUT_NAME],
    outputs: [sums],
    attributes: { nodes_values: a.values, nodes_modes: a.modes, target_weights: a.targetWeights, aggregate_function: 'SUM', post_transform: 'NONE' },
    ints: {
      n_targets: p + 1,
      nodes_treeids: a.treeIds,
      nodes_nodeids: a.nodeIds,
      nodes_featureids: a.featureIds,
      nodes_truenodeids: a.trueIds,
      nodes_falsenodeids: a.falseIds,
      target_treeids: a.targetTreeIds,
      target_nodeids: a.targetNodeIds,
      target_ids: a.targetIds,
    },
  });
  const sumsDouble = g.op('Cast', [sums], { ints: { to: onnx.TensorProto.DataType.DOUBLE } });
  const pathLength = g.name('path_length');
  g.node({ op: 'Split', inputs: [sumsDouble, g.int64s('split', [1, p])], outputs: [pathLength, CONTRIBUTIONS_OUTPUT], ints: { axis: 1 } });
  const h = g.op('Squeeze', [pathLength, g.int64s('axes', [1])]);
  g.node({ op: 'Exp', inputs: [g.op('Mul', [h, g.doubles('neg_ln2_over_c', [-Math.LN2 / m.normaliser], [])])], outputs: [SCORE_OUTPUT] });
}

/** The ONNX bytes of a fitted detector, with its manifest in metadata_props. */
export function exportDetectorToOnnx(detector: FittedDetector): Uint8Array {
  const g = new GraphBuilder();
  const model = detector.model;
  const p = detector.featureNames.length;
  if (model.kind === 'pca') buildPca(g, model);
  else if (model.kind === 'autoencoder') buildAutoencoder(g, model);
  else if (model.kind === 'mset') buildMset(g, model);
  else if (model.kind === 'iforest') buildIsolationForest(g, model);
  else throw new OnnxExportUnsupportedError(String((model as { kind: unknown }).kind));
  const manifest = buildManifest(detector);
  return encodeModel(g, {
    graphName: `telltale_${model.kind}`,
    inputs: [tensorValue(INPUT_NAME, 'float', ['N', p])],
    outputs: [tensorValue(SCORE_OUTPUT, 'double', ['N']), tensorValue(CONTRIBUTIONS_OUTPUT, 'double', ['N', p])],
    metadata: { [MANIFEST_METADATA_KEY]: JSON.stringify(manifest), features: detector.featureNames.join(','), detector: model.kind },
    usesMlDomain: model.kind === 'iforest',
    docString: `Telltale ${model.kind} detector: raw anomaly score and per-feature contributions.`,
  });
}
