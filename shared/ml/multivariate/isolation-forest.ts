/**
 * Isolation forest (Liu, Ting and Zhou 2008) with a seeded RNG, so a fit is reproducible.
 *
 * Thresholds are rounded to float32 at fit time: the ONNX TreeEnsembleRegressor compares in float32,
 * and with float32 thresholds a float32 input takes the same branch in TypeScript and onnxruntime.
 * Contributions credit the features split on along each row's path, weighted by 1/path length
 * (short paths isolate, so their splits matter more), averaged over trees; they are stored per leaf
 * so the ONNX model can output them as extra regression targets.
 */
import { assertValidMatrix, type Matrix } from './matrix.js';
import { createRng, sampleIndices } from './rng.js';
import { InvalidInputError } from './errors.js';
import type { RawScores } from './raw-scores.js';

export interface IsolationForestOptions {
  trees?: number;
  sampleSize?: number;
  seed?: number;
}

/** One tree as parallel arrays; `feature[i] < 0` marks a leaf. */
export interface IsolationTree {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  /** Leaf: depth + c(size), the expected path length of a point that ends here. */
  pathLength: number[];
  /** Leaf: per-feature credit of the path, flattened (leafCredit[i] has p entries, empty for splits). */
  leafCredit: number[][];
}

export interface IsolationForestModel {
  kind: 'iforest';
  features: number;
  sampleSize: number;
  /** c(sampleSize): the average path length that normalises the score. */
  normaliser: number;
  trees: IsolationTree[];
}

/** Average unsuccessful-search path length in a binary search tree of n points. */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + 0.5772156649015329) - (2 * (n - 1)) / n;
}

export function fitIsolationForest(train: Matrix, options: IsolationForestOptions = {}): IsolationForestModel {
  assertValidMatrix(train, { minRows: 2 });
  const trees = options.trees ?? 100;
  if (!(Number.isInteger(trees) && trees >= 1 && trees <= 10_000)) {
    throw new InvalidInputError('bad-option', `trees must be an integer from 1 to 10000, got ${trees}`);
  }
  const sampleSize = Math.min(options.sampleSize ?? 256, train.rows);
  const rng = createRng(options.seed ?? 1);
  const maxDepth = Math.ceil(Math.log2(Math.max(2, sampleSize)));
  const built: IsolationTree[] = [];
  for (let t = 0; t < trees; t++) {
    built.push(buildTree(train, sampleIndices(train.rows, sampleSize, rng), maxDepth, rng));
  }
  return { kind: 'iforest', features: train.cols, sampleSize, normaliser: averagePathLength(sampleSize), trees: built };
}

function emptyTree(): IsolationTree {
  return { feature: [], threshold: [], left: [], right: [], pathLength: [], leafCredit: [] };
}

function buildTree(m: Matrix, sample: Int32Array, maxDepth: number, rng: () => number): IsolationTree {
  const tree = emptyTree();
  growNode(tree, m, sample, 0, maxDepth, rng, []);
  return tree;
}

/** Appends a node (and its subtree) and returns its index. `path` lists the features split on above it. */
function growNode(tree: IsolationTree, m: Matrix, idx: Int32Array, depth: number, maxDepth: number, rng: () => number, path: number[]): number {
  const node = tree.feature.length;
  tree.feature.push(-1);
  tree.threshold.push(0);
  tree.left.push(-1);
  tree.right.push(-1);
  tree.pathLength.push(0);
  tree.leafCredit.push([]);
  const split = depth < maxDepth && idx.length > 1 ? chooseSplit(m, idx, rng) : undefined;
  if (!split) {
    const length = depth + averagePathLength(idx.length);
    tree.pathLength[node] = length;
    tree.leafCredit[node] = pathCredit(path, m.cols, length);
    return node;
  }
  tree.feature[node] = split.feature;
  tree.threshold[node] = split.threshold;
  const next = [...path, split.feature];
  tree.left[node] = growNode(tree, m, split.left, depth + 1, maxDepth, rng, next);
  tree.right[node] = growNode(tree, m, split.right, depth + 1, maxDepth, rng, next);
  return node;
}

function pathCredit(path: readonly number[], p: number, length: number): number[] {
  const credit = new Array<number>(p).fill(0);
  for (const f of path) credit[f] += 1 / Math.max(length, 1);
  return credit;
}

interface Split {
  feature: number;
  threshold: number;
  left: Int32Array;
  right: Int32Array;
}

/** A random feature that varies in the node, a random float32 threshold inside its range; none if all constant. */
function chooseSplit(m: Matrix, idx: Int32Array, rng: () => number): Split | undefined {
  const { cols, data } = m;
  const varying: number[] = [];
  const lo = new Float64Array(cols).fill(Infinity);
  const hi = new Float64Array(cols).fill(-Infinity);
  for (const r of idx) {
    for (let c = 0; c < cols; c++) {
      const v = data[r * cols + c];
      if (v < lo[c]) lo[c] = v;
      if (v > hi[c]) hi[c] = v;
    }
  }
  for (let c = 0; c < cols; c++) if (Math.fround(hi[c]) > Math.fround(lo[c])) varying.push(c);
  if (varying.length === 0) return undefined;
  const feature = varying[Math.floor(rng() * varying.length)];
  const threshold = float32Inside(lo[feature], hi[feature], rng());
  const left = idx.filter((r) => data[r * cols + feature] < threshold);
  const right = idx.filter((r) => data[r * cols + feature] >= threshold);
  if (left.length === 0 || right.length === 0) return undefined;
  return { feature, threshold, left, right };
}

/** A float32 threshold strictly above float32(lo) and at most float32(hi), so neither side is empty. */
function float32Inside(lo: number, hi: number, u: number): number {
  const a = Math.fround(lo);
  const b = Math.fround(hi);
  const t = Math.fround(a + u * (b - a));
  return t > a ? t : b;
}

/**
 * The forest as complete binary trees in typed arrays, for scoring many rows: a leaf above the
 * deepest level is padded with splits every finite value takes to the left (threshold +Infinity), so
 * each row takes exactly `depth` steps of index arithmetic, with no leaf test and no child arrays.
 * The comparisons and the order of the sums are those of walking the trees, so scores are the same.
 */
interface CompiledForest {
  depth: number;
  /** Per tree, 2^depth - 1 split nodes in level order. */
  feature: Int32Array;
  threshold: Float64Array;
  /** Per tree, 2^depth leaves: the tree's own leaf node each stands for. */
  leaf: Int32Array;
  pathLength: Float64Array;
}

/** 1 for true, 0 for false, without a branch (the JIT inlines it). */
const bit = (b: boolean): number => (b as unknown as number) | 0;

/** Above this depth complete trees would be too large; such forests are walked node by node. */
const MAX_COMPILED_DEPTH = 14;
const compiledForests = new WeakMap<IsolationForestModel, CompiledForest | null>();

function treeDepth(tree: IsolationTree, node = 0): number {
  return tree.feature[node] < 0 ? 0 : 1 + Math.max(treeDepth(tree, tree.left[node]), treeDepth(tree, tree.right[node]));
}

function compileForest(model: IsolationForestModel): CompiledForest | null {
  const depth = Math.max(...model.trees.map((t) => treeDepth(t)));
  if (depth > MAX_COMPILED_DEPTH) return null;
  const splits = 2 ** depth - 1;
  const leaves = 2 ** depth;
  const nTrees = model.trees.length;
  const forest: CompiledForest = {
    depth,
    feature: new Int32Array(nTrees * splits),
    threshold: new Float64Array(nTrees * splits),
    leaf: new Int32Array(nTrees * leaves),
    pathLength: new Float64Array(nTrees * leaves),
  };
  model.trees.forEach((tree, t) => {
    const place = (node: number, at: number) => {
      if (at >= splits) {
        forest.leaf[t * leaves + at - splits] = node;
        forest.pathLength[t * leaves + at - splits] = tree.pathLength[node];
        return;
      }
      const isLeaf = tree.feature[node] < 0;
      forest.feature[t * splits + at] = isLeaf ? 0 : tree.feature[node];
      forest.threshold[t * splits + at] = isLeaf ? Number.POSITIVE_INFINITY : tree.threshold[node];
      place(isLeaf ? node : tree.left[node], 2 * at + 1);
      place(isLeaf ? node : tree.right[node], 2 * at + 2);
    };
    place(0, 0);
  });
  return forest;
}

/** Leaf reached by row `o` of `data` in `tree`. */
function leafOf(tree: IsolationTree, data: Float64Array, o: number): number {
  let n = 0;
  while (tree.feature[n] >= 0) n = data[o + tree.feature[n]] < tree.threshold[n] ? tree.left[n] : tree.right[n];
  return n;
}

/**
 * The sum of each row's path lengths over the trees, in tree order, and with `withLeaves` the leaf
 * each row reaches in every tree (trees x rows, tree-major).
 */
function leavesOf(model: IsolationForestModel, rows: Matrix, withLeaves: boolean): { leaves: Int32Array; pathSum: Float64Array } {
  if (!compiledForests.has(model)) compiledForests.set(model, compileForest(model));
  const forest = compiledForests.get(model);
  const p = model.features;
  const nTrees = model.trees.length;
  const { data } = rows;
  const leaves = new Int32Array(withLeaves ? rows.rows * nTrees : 0);
  const pathSum = new Float64Array(rows.rows);
  // Tree by tree over all rows: one tree's arrays stay in cache while the rows stream past.
  for (let t = 0; t < nTrees; t++) {
    if (!forest) {
      for (let r = 0; r < rows.rows; r++) {
        const leaf = leafOf(model.trees[t], data, r * p);
        if (withLeaves) leaves[t * rows.rows + r] = leaf;
        pathSum[r] += model.trees[t].pathLength[leaf];
      }
      continue;
    }
    const { depth, feature, threshold, leaf, pathLength } = forest;
    const splits = 2 ** depth - 1;
    const base = t * splits;
    const leafBase = t * (splits + 1) - splits;
    // Four rows at a time, and the step as arithmetic rather than a branch: the comparisons are
    // unpredictable, and four independent walks keep the core busy while each waits on its loads.
    let r = 0;
    for (; r + 4 <= rows.rows; r += 4) {
      const o = r * p;
      let n0 = 0;
      let n1 = 0;
      let n2 = 0;
      let n3 = 0;
      for (let d = 0; d < depth; d++) {
        const k0 = base + n0;
        const k1 = base + n1;
        const k2 = base + n2;
        const k3 = base + n3;
        n0 = 2 * n0 + 2 - bit(data[o + feature[k0]] < threshold[k0]);
        n1 = 2 * n1 + 2 - bit(data[o + p + feature[k1]] < threshold[k1]);
        n2 = 2 * n2 + 2 - bit(data[o + 2 * p + feature[k2]] < threshold[k2]);
        n3 = 2 * n3 + 2 - bit(data[o + 3 * p + feature[k3]] < threshold[k3]);
      }
      pathSum[r] += pathLength[leafBase + n0];
      pathSum[r + 1] += pathLength[leafBase + n1];
      pathSum[r + 2] += pathLength[leafBase + n2];
      pathSum[r + 3] += pathLength[leafBase + n3];
      if (withLeaves) {
        const at = t * rows.rows + r;
        leaves[at] = leaf[leafBase + n0];
        leaves[at + 1] = leaf[leafBase + n1];
        leaves[at + 2] = leaf[leafBase + n2];
        leaves[at + 3] = leaf[leafBase + n3];
      }
    }
    for (; r < rows.rows; r++) {
      const o = r * p;
      let n = 0;
      for (let d = 0; d < depth; d++) n = 2 * n + (data[o + feature[base + n]] < threshold[base + n] ? 1 : 2);
      if (withLeaves) leaves[t * rows.rows + r] = leaf[leafBase + n];
      pathSum[r] += pathLength[leafBase + n];
    }
  }
  return { leaves, pathSum };
}

/** Raw score 2^(-E[h]/c) (0.5 is average, near 1 isolates fast) and per-feature path credit. */
export function scoreIsolationForest(model: IsolationForestModel, rows: Matrix, withContributions = true): RawScores {
  assertValidMatrix(rows, { cols: model.features });
  const p = model.features;
  const raw = new Float64Array(rows.rows);
  const contributions = new Float64Array(rows.rows * p);
  const nTrees = model.trees.length;
  const { leaves, pathSum } = leavesOf(model, rows, withContributions);
  for (let r = 0; r < rows.rows; r++) {
    raw[r] = 2 ** (-(pathSum[r] / nTrees) / model.normaliser);
    if (!withContributions) continue;
    const o = r * p;
    for (let t = 0; t < nTrees; t++) {
      const credit = model.trees[t].leafCredit[leaves[t * rows.rows + r]];
      for (let c = 0; c < p; c++) contributions[o + c] += credit[c] / nTrees;
    }
  }
  return { raw, contributions };
}
