/**
 * Seeded generator of labelled univariate series (benchmarks and tests): a base process with a known noise sigma, and
 * anomalies of one kind injected at known places with magnitudes in units of that sigma.
 */
import { createRng, gaussian } from '../multivariate/rng.js';
import type { EventWindow } from './eventScore.js';

export const baseKinds = ['noise', 'seasonal', 'ar1', 'heavy_tail', 'quantised', 'trend_seasonal'] as const;
export type BaseKind = (typeof baseKinds)[number];
export const injectedKinds = ['spike', 'level_shift', 'trend_change', 'variance_change', 'stuck', 'seasonal_break'] as const;
export type InjectedKind = (typeof injectedKinds)[number];

export interface LabelledSeries {
  name: string;
  base: BaseKind;
  kind: InjectedKind | 'none';
  values: number[];
  windows: EventWindow[];
  period: number;
}

function uniform(rng: () => number, lo: number, hi: number): number {
  return lo + (hi - lo) * rng();
}

interface Base {
  signal: Float64Array;
  season: Float64Array;
  noise: Float64Array;
  sigma: number;
  period: number;
  quantum: number;
}

function generateBase(base: BaseKind, n: number, rng: () => number): Base {
  const level = uniform(rng, -100, 100);
  const sigma = 10 ** uniform(rng, -2, 2);
  const seasonal = base === 'seasonal' || base === 'trend_seasonal';
  const period = seasonal ? [24, 48, 96][Math.floor(rng() * 3)] : 1;
  const amplitude = sigma * uniform(rng, 3, 10);
  const slope = base === 'trend_seasonal' ? sigma * uniform(rng, -0.01, 0.01) : 0;
  const shift = rng() * 2 * Math.PI;
  const signal = new Float64Array(n);
  const season = new Float64Array(n);
  const noise = new Float64Array(n);
  let ar = 0;
  for (let t = 0; t < n; t++) {
    const angle = (2 * Math.PI * t) / period + shift;
    season[t] = seasonal ? amplitude * (Math.sin(angle) + 0.4 * Math.sin(2 * angle)) : 0;
    signal[t] = level + slope * t + season[t];
    if (base === 'ar1') {
      ar = 0.7 * ar + Math.sqrt(1 - 0.49) * gaussian(rng);
      noise[t] = sigma * ar;
    } else if (base === 'heavy_tail') {
      noise[t] = sigma * studentT3(rng) / Math.sqrt(3);
    } else {
      noise[t] = sigma * gaussian(rng);
    }
  }
  return { signal, season, noise, sigma, period, quantum: base === 'quantised' ? sigma / 1.5 : 0 };
}

function studentT3(rng: () => number): number {
  const g = gaussian(rng);
  let chi = 0;
  for (let i = 0; i < 3; i++) chi += gaussian(rng) ** 2;
  return g / Math.sqrt(chi / 3);
}

/** Adds one anomaly at `start` (changing signal/noise in place); returns its labelled window. */
function inject(b: Base, kind: InjectedKind, start: number, rng: () => number): EventWindow {
  const n = b.signal.length;
  const sign = rng() < 0.5 ? -1 : 1;
  switch (kind) {
    case 'spike': {
      b.signal[start] += sign * uniform(rng, 6, 10) * b.sigma;
      return { start, end: start + 10, kind };
    }
    case 'level_shift': {
      const size = sign * uniform(rng, 4, 8) * b.sigma;
      for (let t = start; t < n; t++) b.signal[t] += size;
      return { start, end: start + 50, kind };
    }
    case 'trend_change': {
      const slope = sign * uniform(rng, 0.05, 0.1) * b.sigma;
      for (let t = start; t < n; t++) b.signal[t] += slope * (t - start);
      return { start, end: start + 150, kind };
    }
    case 'variance_change': {
      const factor = uniform(rng, 3, 5);
      for (let t = start; t < Math.min(n, start + 300); t++) b.noise[t] *= factor;
      return { start, end: start + 100, kind };
    }
    case 'stuck': {
      const length = Math.floor(uniform(rng, 20, 60));
      for (let t = start; t < Math.min(n, start + length); t++) {
        b.signal[t] = b.signal[start - 1];
        b.noise[t] = b.noise[start - 1];
      }
      return { start, end: start + length + 10, kind };
    }
    case 'seasonal_break': {
      // The cycle jumps by a third of a period, and its amplitude changes by half: same mean, different shape.
      const lag = Math.max(1, Math.round(b.period / 3));
      const amp = rng() < 0.5 ? 0.5 : 1.5;
      for (let t = start; t < n; t++) b.signal[t] += amp * b.season[t - lag] - b.season[t];
      return { start, end: start + 2 * b.period, kind };
    }
  }
}

/** One series: `base` plus `count` anomalies of `kind` ('none' = clean), placed after `firstAt`. */
export function generateSeries(base: BaseKind, kind: InjectedKind | 'none', seed: number, length = 4000, count = 2, firstAt = 600): LabelledSeries {
  const rng = createRng(seed);
  const b = generateBase(base, length, rng);
  const windows: EventWindow[] = [];
  if (kind !== 'none') {
    const gap = Math.floor((length - firstAt - 400) / count);
    for (let i = 0; i < count; i++) windows.push(inject(b, kind, firstAt + i * gap + Math.floor(rng() * gap * 0.5), rng));
  }
  const values = new Array<number>(length);
  for (let t = 0; t < length; t++) {
    const v = b.signal[t] + b.noise[t];
    values[t] = b.quantum > 0 ? Math.round(v / b.quantum) * b.quantum : v;
  }
  return { name: `${base}/${kind}/${seed}`, base, kind, values, windows, period: b.period };
}

/** The benchmark suite: every base with every anomaly kind that makes sense on it (seasonal breaks need a season). */
export function generateSuite(seeds = 4, length = 4000): LabelledSeries[] {
  const out: LabelledSeries[] = [];
  let seed = 1;
  for (const base of baseKinds) {
    const seasonal = base === 'seasonal' || base === 'trend_seasonal';
    for (const kind of [...injectedKinds, 'none'] as const) {
      if (kind === 'seasonal_break' && !seasonal) continue;
      for (let s = 0; s < seeds; s++) out.push(generateSeries(base, kind, seed++, length));
    }
  }
  return out;
}
