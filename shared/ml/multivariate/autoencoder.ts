/**
 * A dense autoencoder (tanh hidden layers, linear output) trained in TypeScript with Adam on
 * standardised rows. It learns the non-linear manifold normal operation lives on; the raw score is
 * the mean squared reconstruction error and a feature's contribution is its own squared error.
 */
import { assertValidMatrix, standardise, standardisedTraining, type Matrix } from './matrix.js';
import { createGaussian, createRng } from './rng.js';
import { InvalidInputError } from './errors.js';
import type { RawScores } from './raw-scores.js';

export interface AutoencoderOptions {
  /** Extra std per feature, added in quadrature to the training std (see trendAllowance). */
  scaleAllowance?: number[];
  /** Hidden layer widths, encoder to decoder, e.g. [16, 4, 16] (default from the feature count). */
  hidden?: number[];
  /** Passes over the data (default: 200, fewer past 2,000 rows; see trainAdam). */
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Std of Gaussian noise added to inputs while training (denoising), in standard units. */
  inputNoise?: number;
  /** L2 penalty on weights, keeps the map smooth off the training manifold. */
  weightDecay?: number;
  seed?: number;
}

export interface DenseLayer {
  inputs: number;
  outputs: number;
  /** inputs x outputs, row-major. */
  weights: number[];
  bias: number[];
  activation: 'tanh' | 'linear';
}

export interface AutoencoderModel {
  kind: 'autoencoder';
  mean: number[];
  std: number[];
  layers: DenseLayer[];
  trainingLoss: number;
}

interface Layer {
  inputs: number;
  outputs: number;
  w: Float64Array;
  b: Float64Array;
  tanh: boolean;
}

interface AdamSlot {
  m: Float64Array;
  v: Float64Array;
}

function defaultHidden(p: number): number[] {
  const wide = Math.max(8, 2 * p);
  const code = Math.max(2, Math.ceil(p / 3));
  return [wide, code, wide];
}

function initLayers(sizes: readonly number[], gauss: () => number): Layer[] {
  const layers: Layer[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    const inputs = sizes[i];
    const outputs = sizes[i + 1];
    const scale = Math.sqrt(2 / (inputs + outputs)); // Glorot: keeps tanh out of saturation at the start
    const w = Float64Array.from({ length: inputs * outputs }, () => gauss() * scale);
    layers.push({ inputs, outputs, w, b: new Float64Array(outputs), tanh: i + 2 < sizes.length });
  }
  return layers;
}

function validateOptions(o: AutoencoderOptions): void {
  const positiveInt = (v: number | undefined, name: string) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new InvalidInputError('bad-option', `${name} must be a positive integer, got ${v}`);
  };
  positiveInt(o.epochs, 'epochs');
  positiveInt(o.batchSize, 'batchSize');
  o.hidden?.forEach((h, i) => positiveInt(h, `hidden[${i}]`));
  if (o.learningRate !== undefined && !(o.learningRate > 0)) throw new InvalidInputError('bad-option', `learningRate must be positive, got ${o.learningRate}`);
}

export function fitAutoencoder(train: Matrix, options: AutoencoderOptions = {}): AutoencoderModel {
  validateOptions(options);
  const { stats, z } = standardisedTraining(train, options.scaleAllowance);
  const p = train.cols;
  const rng = createRng(options.seed ?? 1);
  const gauss = createGaussian(rng);
  const layers = initLayers([p, ...(options.hidden ?? defaultHidden(p)), p], gauss);
  const trainingLoss = trainAdam(layers, z, options, rng, gauss);
  return {
    kind: 'autoencoder',
    mean: stats.mean,
    std: stats.std,
    trainingLoss,
    layers: layers.map((l) => ({ inputs: l.inputs, outputs: l.outputs, weights: Array.from(l.w), bias: Array.from(l.b), activation: l.tanh ? 'tanh' : 'linear' })),
  };
}

/** Mini-batch Adam on the squared reconstruction error; returns the last epoch's mean loss. */
function trainAdam(layers: Layer[], z: Matrix, o: AutoencoderOptions, rng: () => number, gauss: () => number): number {
  // Default: a budget of ~400k row passes (at most 200 epochs): Adam converges in steps, not epochs,
  // and this keeps a million-row fit to about one epoch.
  const epochs = o.epochs ?? Math.min(200, Math.max(1, Math.ceil(400_000 / z.rows)));
  const batch = Math.min(o.batchSize ?? 32, z.rows);
  const lr = o.learningRate ?? 3e-3;
  const noise = o.inputNoise ?? 0.05;
  const decay = o.weightDecay ?? 1e-5;
  const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
  const grads = layers.map((l) => ({ w: new Float64Array(l.w.length), b: new Float64Array(l.b.length) }));
  const slots: { w: AdamSlot; b: AdamSlot }[] = layers.map((l) => ({
    w: { m: new Float64Array(l.w.length), v: new Float64Array(l.w.length) },
    b: { m: new Float64Array(l.b.length), v: new Float64Array(l.b.length) },
  }));
  const acts = [z.cols, ...layers.map((l) => l.outputs)].map((n) => new Float64Array(n));
  const deltas = layers.map((l) => new Float64Array(l.outputs));
  const order = Int32Array.from({ length: z.rows }, (_, i) => i);
  let step = 0;
  let epochLoss = 0;
  for (let e = 0; e < epochs; e++) {
    shuffle(order, rng);
    epochLoss = 0;
    for (let start = 0; start < z.rows; start += batch) {
      const end = Math.min(z.rows, start + batch);
      grads.forEach((g) => {
        g.w.fill(0);
        g.b.fill(0);
      });
      for (let k = start; k < end; k++) {
        epochLoss += accumulateSample(layers, grads, acts, deltas, z, order[k], noise, gauss);
      }
      step++;
      applyAdam(layers, grads, slots, { lr, beta1, beta2, eps, decay, step, scale: 1 / (end - start) });
    }
    epochLoss /= z.rows;
  }
  return epochLoss;
}

function shuffle(a: Int32Array, rng: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/** Forward and backward pass of one row; adds its gradient to `grads` and returns its loss. */
function accumulateSample(
  layers: Layer[],
  grads: { w: Float64Array; b: Float64Array }[],
  acts: Float64Array[],
  deltas: Float64Array[],
  z: Matrix,
  row: number,
  noise: number,
  gauss: () => number,
): number {
  const p = z.cols;
  const target = z.data.subarray(row * p, row * p + p);
  for (let i = 0; i < p; i++) acts[0][i] = target[i] + (noise > 0 ? noise * gauss() : 0);
  forward(layers, acts);
  const out = acts[layers.length];
  const last = deltas[layers.length - 1];
  let loss = 0;
  for (let i = 0; i < p; i++) {
    const d = out[i] - target[i];
    loss += (d * d) / p;
    last[i] = (2 * d) / p;
  }
  for (let l = layers.length - 1; l >= 0; l--) {
    const layer = layers[l];
    const input = acts[l];
    const delta = deltas[l];
    const g = grads[l];
    for (let i = 0; i < layer.inputs; i++) {
      const xi = input[i];
      const o = i * layer.outputs;
      for (let j = 0; j < layer.outputs; j++) g.w[o + j] += xi * delta[j];
    }
    for (let j = 0; j < layer.outputs; j++) g.b[j] += delta[j];
    if (l > 0) {
      const prev = deltas[l - 1];
      const prevLayer = layers[l - 1];
      for (let i = 0; i < layer.inputs; i++) {
        let s = 0;
        const o = i * layer.outputs;
        for (let j = 0; j < layer.outputs; j++) s += layer.w[o + j] * delta[j];
        prev[i] = prevLayer.tanh ? s * (1 - input[i] * input[i]) : s;
      }
    }
  }
  return loss;
}

function forward(layers: Layer[], acts: Float64Array[]): void {
  layers.forEach((layer, l) => {
    const x = acts[l];
    const y = acts[l + 1];
    for (let j = 0; j < layer.outputs; j++) y[j] = layer.b[j];
    for (let i = 0; i < layer.inputs; i++) {
      const xi = x[i];
      const o = i * layer.outputs;
      for (let j = 0; j < layer.outputs; j++) y[j] += xi * layer.w[o + j];
    }
    if (layer.tanh) for (let j = 0; j < layer.outputs; j++) y[j] = Math.tanh(y[j]);
  });
}

interface AdamStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  decay: number;
  step: number;
  scale: number;
}

function applyAdam(layers: Layer[], grads: { w: Float64Array; b: Float64Array }[], slots: { w: AdamSlot; b: AdamSlot }[], s: AdamStep): void {
  const c1 = 1 - s.beta1 ** s.step;
  const c2 = 1 - s.beta2 ** s.step;
  const update = (param: Float64Array, grad: Float64Array, slot: AdamSlot, decay: number) => {
    for (let i = 0; i < param.length; i++) {
      const g = grad[i] * s.scale + decay * param[i];
      slot.m[i] = s.beta1 * slot.m[i] + (1 - s.beta1) * g;
      slot.v[i] = s.beta2 * slot.v[i] + (1 - s.beta2) * g * g;
      param[i] -= (s.lr * (slot.m[i] / c1)) / (Math.sqrt(slot.v[i] / c2) + s.eps);
    }
  };
  layers.forEach((layer, l) => {
    update(layer.w, grads[l].w, slots[l].w, s.decay);
    update(layer.b, grads[l].b, slots[l].b, 0);
  });
}

function toLayers(model: AutoencoderModel): Layer[] {
  return model.layers.map((l) => ({ inputs: l.inputs, outputs: l.outputs, w: Float64Array.from(l.weights), b: Float64Array.from(l.bias), tanh: l.activation === 'tanh' }));
}

/** Mean squared reconstruction error (standard units) and each feature's squared error. */
export function scoreAutoencoder(model: AutoencoderModel, rows: Matrix): RawScores {
  const p = model.mean.length;
  assertValidMatrix(rows, { cols: p });
  const z = standardise(rows, model.mean, model.std).data;
  const layers = toLayers(model);
  const acts = [p, ...layers.map((l) => l.outputs)].map((n) => new Float64Array(n));
  const raw = new Float64Array(rows.rows);
  const contributions = new Float64Array(rows.rows * p);
  for (let r = 0; r < rows.rows; r++) {
    const o = r * p;
    acts[0].set(z.subarray(o, o + p));
    forward(layers, acts);
    const out = acts[layers.length];
    let s = 0;
    for (let i = 0; i < p; i++) {
      const e = (out[i] - z[o + i]) ** 2;
      contributions[o + i] = e;
      s += e;
    }
    raw[r] = s / p;
  }
  return { raw, contributions };
}
