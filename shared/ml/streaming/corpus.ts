/**
 * Seeded corpus of labelled univariate streams for the window protocol (benchmarks and tests): processes that look
 * like real operations data rather than textbook noise, each with 0 to 3 labelled anomaly onsets. Labels are points
 * (where an operator would say the anomaly starts); the protocol's windows are built around them.
 */
import { windowsAround } from '../metrics/window-sweep.js';
import { createRng, gaussian } from '../multivariate/rng.js';
import { baseKinds, generateSeries, injectedKinds } from './synthetic.js';

export const corpusKinds = ['server_metric', 'traffic_counts', 'machine_temperature', 'flat_stretches', 'flat_then_moving', 'generated_suite'] as const;
export type CorpusKind = (typeof corpusKinds)[number];

export interface CorpusStream {
  name: string;
  kind: CorpusKind;
  seed: number;
  values: number[];
  /** Labelled anomaly onsets. */
  anomalies: number[];
  windows: [number, number][];
}

type Rng = () => number;
const uniform = (rng: Rng, lo: number, hi: number): number => lo + (hi - lo) * rng();
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)];
const round = (v: number, quantum: number): number => Math.round(v / quantum) * quantum;

/** Anomaly onsets spread over the part of the stream after the warm-up and the protocol's probation. */
function onsets(rng: Rng, n: number, count: number): number[] {
  const first = Math.max(Math.floor(0.15 * n), 400) + 100;
  const span = (n - first - 200) / Math.max(1, count);
  return Array.from({ length: count }, (_, i) => Math.floor(first + i * span + rng() * span * 0.6));
}

/** Daily cycle of `period` points with a weekday/weekend modulation: the shape of load that follows people. */
function dailyShape(t: number, period: number, phase: number): number {
  const day = Math.floor((t + phase) / period) % 7;
  const angle = (2 * Math.PI * (t + phase)) / period;
  return (0.5 + 0.5 * Math.sin(angle - Math.PI / 2) + 0.2 * Math.sin(2 * angle)) * (day >= 5 ? 0.6 : 1);
}

/** CPU-like percent: daily load, bursty heavy-tailed noise, benign deploy steps; anomalies are spikes, plateaus and drops. */
function serverMetric(rng: Rng, n: number, anomalies: number[]): number[] {
  const period = pick(rng, [96, 144, 288]);
  const base = uniform(rng, 5, 40);
  const amp = uniform(rng, 0, 30);
  const phase = Math.floor(rng() * period);
  let level = 0;
  let burst = 0;
  const values: number[] = [];
  const effect = new Float64Array(n);
  for (const at of anomalies) {
    const what = pick(rng, ['spike', 'plateau', 'drop'] as const);
    const size = uniform(rng, 25, 50);
    const length = what === 'spike' ? 1 + Math.floor(rng() * 3) : Math.floor(uniform(rng, 50, 400));
    for (let t = at; t < Math.min(n, at + length); t++) effect[t] = what === 'drop' ? -base * 0.9 : size;
  }
  for (let t = 0; t < n; t++) {
    // Benign: a rare small step (a deploy), and bursts of a few points (batch jobs) that are part of normal life.
    if (rng() < 0.0005) level += uniform(rng, -3, 3);
    burst = rng() < 0.01 ? uniform(rng, 3, 12) : burst * 0.6;
    const noise = Math.abs(gaussian(rng)) * uniform(rng, 0.5, 2) + (rng() < 0.02 ? Math.exp(gaussian(rng)) * 2 : 0);
    const v = base + level + amp * dailyShape(t, period, phase) + burst + noise + effect[t];
    values.push(round(Math.min(100, Math.max(0, v)), 0.1));
  }
  return values;
}

/** Requests per interval: Poisson around a daily rate; anomalies are outages (near zero) and surges. */
function trafficCounts(rng: Rng, n: number, anomalies: number[]): number[] {
  const period = pick(rng, [48, 96, 288]);
  const rate = 10 ** uniform(rng, 0.5, 2.5);
  const phase = Math.floor(rng() * period);
  const factor = new Float64Array(n).fill(1);
  for (const at of anomalies) {
    const outage = rng() < 0.5;
    const length = Math.floor(uniform(rng, 10, 150));
    for (let t = at; t < Math.min(n, at + length); t++) factor[t] = outage ? 0.05 : uniform(rng, 3, 5);
  }
  return Array.from({ length: n }, (_, t) => poisson(rng, rate * (0.3 + dailyShape(t, period, phase)) * factor[t]));
}

function poisson(rng: Rng, lambda: number): number {
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * gaussian(rng)));
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = rng();
  while (p > limit) {
    k++;
    p *= rng();
  }
  return k;
}

/** Machine temperature: slow wandering drift and regime changes (load), quantised sensor; anomalies are a fast rise to failure or a sudden drop. */
function machineTemperature(rng: Rng, n: number, anomalies: number[]): number[] {
  let temperature = uniform(rng, 60, 90);
  let drift = 0;
  let target = temperature;
  const noise = uniform(rng, 0.1, 0.8);
  const starts = new Map(anomalies.map((at) => [at, rng() < 0.5 ? 'failure' : 'drop'] as const));
  let failing = 0;
  const values: number[] = [];
  for (let t = 0; t < n; t++) {
    const start = starts.get(t);
    if (start === 'failure') failing = Math.floor(uniform(rng, 100, 300));
    if (start === 'drop') temperature -= uniform(rng, 15, 30);
    // A benign regime change now and then: the machine's load moves its set point slowly.
    if (rng() < 0.001) target = temperature + uniform(rng, -10, 10);
    drift = 0.98 * drift + 0.02 * (target - temperature) * 0.05 + 0.01 * gaussian(rng);
    temperature += drift + (failing > 0 ? 0.15 : 0) + (target - temperature) * 0.002;
    if (failing > 0) failing--;
    values.push(round(temperature + noise * gaussian(rng), 0.05));
  }
  return values;
}

/** A metric that sits flat (0 or a fixed value) for long stretches with rare benign blips; anomalies are sustained departures. */
function flatStretches(rng: Rng, n: number, anomalies: number[]): number[] {
  const flat = rng() < 0.5 ? 0 : Math.round(uniform(rng, 1, 100));
  const values = new Array<number>(n).fill(flat);
  for (let t = 0; t < n; t++) if (rng() < 0.003) values[t] = flat + round(Math.abs(gaussian(rng)) + 0.5, 0.5);
  for (const at of anomalies) {
    const length = Math.floor(uniform(rng, 20, 200));
    const size = uniform(rng, 5, 20);
    for (let t = at; t < Math.min(n, at + length); t++) values[t] = flat + round(size + gaussian(rng), 0.5);
  }
  return values;
}

/** Constant through the warm-up (a sensor not yet in use), then it starts moving: the start is the first anomaly. */
function flatThenMoving(rng: Rng, n: number, anomalies: number[]): number[] {
  const flat = Math.round(uniform(rng, 0, 50));
  const start = anomalies[0];
  const level = flat + uniform(rng, 5, 30) * (rng() < 0.3 ? -1 : 1);
  const sigma = uniform(rng, 0.5, 3);
  const quantum = pick(rng, [1, 0.1, 0.01]);
  let ar = 0;
  const values: number[] = [];
  for (let t = 0; t < n; t++) {
    ar = 0.8 * ar + 0.6 * gaussian(rng);
    const later = anomalies.slice(1).some((at) => t >= at && t < at + 30) ? 10 * sigma : 0;
    values.push(t < start ? flat : round(level + sigma * ar + later, quantum));
  }
  return values;
}

const processes = {
  server_metric: serverMetric,
  traffic_counts: trafficCounts,
  machine_temperature: machineTemperature,
  flat_stretches: flatStretches,
  flat_then_moving: flatThenMoving,
};

/** One stream of a kind; `generated_suite` draws a base process and anomaly kind of the detector's own suite. */
export function corpusStream(kind: CorpusKind, seed: number, length = 4000): CorpusStream {
  const rng = createRng(seed * 7919 + corpusKinds.indexOf(kind));
  if (kind === 'generated_suite') {
    const series = generateSeries(pick(rng, baseKinds), pick(rng, [...injectedKinds, 'none'] as const), seed, length);
    const anomalies = series.windows.map((w) => w.start);
    return { name: `${kind}/${series.name}`, kind, seed, values: series.values, anomalies, windows: windowsAround(length, anomalies) };
  }
  const count = kind === 'flat_then_moving' ? 1 + Math.floor(rng() * 2) : Math.floor(rng() * 4);
  const anomalies = onsets(rng, length, count);
  const values = processes[kind](rng, length, anomalies);
  return { name: `${kind}/${seed}`, kind, seed, values, anomalies, windows: windowsAround(length, anomalies) };
}

/** Every kind for each seed; even seeds are the tuning half, odd seeds the held-out half. */
export function generateCorpus(seeds: readonly number[], length = 4000): CorpusStream[] {
  return seeds.flatMap((seed) => corpusKinds.map((kind) => corpusStream(kind, seed, length)));
}
