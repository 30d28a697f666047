/**
 * Assembles the models layer in layers/build/models-layer/ (no downloads):
 *   nodejs/node_modules/onnxruntime-node   runtime files and the linux-x64 binary only
 *   nodejs/node_modules/onnxruntime-common
 *   models/baseline-<kind>.onnx + .manifest.json, trained here on synthetic normal data
 * Run: `npx tsx layers/build.ts` (prints the sizes). The CDK publishes the folder as a layer.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { summariseReference } from '../shared/ml/drift/index.js';
import { fitDetector, type DetectorKind } from '../shared/ml/multivariate/detector.js';
import type { Matrix } from '../shared/ml/multivariate/matrix.js';
import { createGaussian, createRng } from '../shared/ml/multivariate/rng.js';
import { exportDetectorToOnnx } from '../shared/ml/onnx/export.js';
import { buildManifest } from '../shared/ml/onnx/manifest.js';
import type { StoredManifest } from '../shared/ml/registry/model.js';
import { sampledRows } from '../shared/ml/registry/trainingData.js';

const root = fileURLToPath(new URL('../', import.meta.url));
export const layerDir = path.join(root, 'layers/build/models-layer');
const modulesDir = path.join(layerDir, 'nodejs/node_modules');
export const layerModelsDir = path.join(layerDir, 'models');

/** Version of the baseline models; bump when their training below changes. */
export const BASELINE_VERSION = 1;
/** Feature names of the baseline models: standardised process signals. */
export const BASELINE_FEATURES = ['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8'];

/** Normal plant behaviour: eight signals driven by three latent factors, one of them non-linearly, plus noise. */
export function syntheticNormalRows(rows: number, seed: number): Matrix {
  const g = createGaussian(createRng(seed));
  const p = BASELINE_FEATURES.length;
  const data = new Float64Array(rows * p);
  for (let r = 0; r < rows; r++) {
    const [a, b, c] = [g(), g(), g()];
    const noise = () => 0.1 * g();
    const row = [a, 0.8 * a + 0.6 * b, b, 0.5 * (a * a - 1), Math.sin(b), c, 0.7 * c - 0.3 * a, a - b + 0.5 * c].map((v) => Math.fround(v + noise()));
    data.set(row, r * p);
  }
  return { rows, cols: p, data };
}

function sizeOf(target: string): number {
  const s = statSync(target);
  if (!s.isDirectory()) return s.size;
  return readdirSync(target).reduce((sum, name) => sum + sizeOf(path.join(target, name)), 0);
}
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** onnxruntime-node without its install scripts and with the linux-x64 binary only (Lambda x86_64). */
function copyOnnxRuntime(): void {
  const source = path.join(root, 'node_modules/onnxruntime-node');
  const target = path.join(modulesDir, 'onnxruntime-node');
  for (const part of ['package.json', 'dist', 'README.md']) cpSync(path.join(source, part), path.join(target, part), { recursive: true });
  // The binding loads bin/napi-v<N>/<platform>/<arch>/; keep linux/x64 of whichever N this version ships.
  const napis = readdirSync(path.join(source, 'bin')).filter((d) => existsSync(path.join(source, 'bin', d, 'linux/x64')));
  if (napis.length === 0) throw new Error('onnxruntime-node has no linux/x64 binary in bin/napi-v*/');
  for (const napi of napis) cpSync(path.join(source, 'bin', napi, 'linux/x64'), path.join(target, 'bin', napi, 'linux/x64'), { recursive: true });
  cpSync(path.join(root, 'node_modules/onnxruntime-common'), path.join(modulesDir, 'onnxruntime-common'), { recursive: true });
}

/** Fits a baseline detector and writes `<id>.onnx` and `<id>.manifest.json`; returns the id. */
export function writeBaselineModel(kind: DetectorKind, dir: string): string {
  const id = `baseline-${kind}`;
  const train = syntheticNormalRows(4000, kind === 'pca' ? 11 : 12);
  const detector = fitDetector(train, { detector: kind, featureNames: BASELINE_FEATURES, autoencoder: { epochs: 60, seed: 7 } });
  const manifest: StoredManifest = {
    ...buildManifest(detector),
    model: { id, version: BASELINE_VERSION },
    reference: summariseReference(sampledRows(train, 4000), BASELINE_FEATURES),
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${id}.onnx`), exportDetectorToOnnx(detector));
  writeFileSync(path.join(dir, `${id}.manifest.json`), JSON.stringify(manifest));
  return id;
}

/** The detectors the layer ships as baselines (model ids `baseline-<kind>`). */
export const baselineKinds = ['pca', 'autoencoder'] as const satisfies readonly DetectorKind[];

/** Writes every baseline model into `dir`; returns their ids. The layer and the local cloud both use it. */
export function writeBaselineModels(dir: string): string[] {
  return baselineKinds.map((kind) => writeBaselineModel(kind, dir));
}

/** Assembles the layer folder: the pruned onnxruntime addon and the baseline models. */
export function buildModelsLayer(): void {
  const started = performance.now();
  rmSync(layerDir, { recursive: true, force: true });
  copyOnnxRuntime();
  const ids = writeBaselineModels(layerModelsDir);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`models layer in ${path.relative(root, layerDir)} (${seconds} s)`);
  console.log(`  nodejs/node_modules/onnxruntime-node  ${mb(sizeOf(path.join(modulesDir, 'onnxruntime-node')))} (installed package: ${mb(sizeOf(path.join(root, 'node_modules/onnxruntime-node')))})`);
  console.log(`  nodejs/node_modules/onnxruntime-common  ${mb(sizeOf(path.join(modulesDir, 'onnxruntime-common')))}`);
  for (const id of ids) console.log(`  models/${id}.onnx  ${(sizeOf(path.join(layerModelsDir, `${id}.onnx`)) / 1024).toFixed(1)} KB`);
  console.log(`  total  ${mb(sizeOf(layerDir))} unzipped (Lambda allows 250 MB for function + layers)`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) buildModelsLayer();
