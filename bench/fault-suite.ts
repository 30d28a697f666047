/**
 * The fault-injection suite: SKAB-shaped experiments (a normal stretch to fit on, then a test part
 * with one event) cut from SKAB's anomaly-free.csv (normal operation of the same test bed, 8 sensors)
 * with generated faults, and non-fault changes (set-point and regime changes) that are labelled
 * normal. Seeded and fast: the same seed gives the same experiment on every machine.
 *
 * The two halves draw from disjoint stretches of anomaly-free.csv (tuning: its first half, held-out:
 * its second) with disjoint seeds, so settings chosen on one half meet both new faults and a new
 * stretch of normal operation on the other.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { columnStats, sliceRows, type Matrix } from '../shared/ml/multivariate/matrix.js';
import { createGaussian, createRng } from '../shared/ml/multivariate/rng.js';

export const SKAB_SENSORS = ['Accelerometer1RMS', 'Accelerometer2RMS', 'Current', 'Pressure', 'Temperature', 'Thermocouple', 'Voltage', 'Volume Flow RateRMS'] as const;
const [ACC1, ACC2, CURRENT, PRESSURE, , , VOLTAGE, FLOW] = SKAB_SENSORS.map((_, i) => i);

export const FAULT_KINDS = ['leak', 'imbalance', 'cavitation', 'drift', 'stuck', 'spikes', 'variance'] as const;
export const NORMAL_CHANGE_KINDS = ['setpoint', 'regime'] as const;
export const SCENARIO_KINDS = [...FAULT_KINDS, ...NORMAL_CHANGE_KINDS] as const;
export type ScenarioKind = (typeof SCENARIO_KINDS)[number];
export type SuiteHalf = 'tuning' | 'heldout';

/** Rows every experiment is fitted on (SKAB's protocol), test rows after them, and the settling window of a non-fault change. */
export const TRAIN_ROWS = 400;
export const TEST_ROWS = 700;
export const SETTLING_ROWS = 60;

export interface Experiment {
  name: string;
  kind: ScenarioKind;
  features: Matrix;
  /** 1 where a fault is present (every row of the fault window, its onset ramp included). */
  anomaly: Uint8Array;
  /** 1 where a row counts in the metrics: test rows, less the settling window after a non-fault change. */
  scored: Uint8Array;
}

/** anomaly-free.csv as a matrix of the 8 sensors. */
export function readAnomalyFree(file = path.resolve(import.meta.dirname, '../../shared/datasets/skab/anomaly-free/anomaly-free.csv')): Matrix {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
  const body = lines.slice(1).map((l) => l.split(';').slice(1, 1 + SKAB_SENSORS.length).map(Number));
  const data = new Float64Array(body.length * SKAB_SENSORS.length);
  body.forEach((row, r) => data.set(row, r * SKAB_SENSORS.length));
  return { rows: body.length, cols: SKAB_SENSORS.length, data };
}

/** The stretch of the normal recording a half draws from: the first or the second half of its rows. */
export function halfSpan(base: Matrix, half: SuiteHalf): [number, number] {
  const mid = Math.floor(base.rows / 2);
  return half === 'tuning' ? [0, mid] : [mid, base.rows];
}

type Rng = () => number;
const uniform = (rng: Rng, lo: number, hi: number) => lo + (hi - lo) * rng();
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)];

/** Linear ramp from 0 at the onset to 1 after `rows` rows. */
const ramp = (t: number, rows: number) => Math.min(1, (t + 1) / rows);

interface Window {
  start: number;
  end: number;
}

/** One experiment: `kind` injected into a stretch of `base` inside `span`, from the seed. */
export function generateExperiment(base: Matrix, kind: ScenarioKind, seed: number, span: [number, number]): Experiment {
  const rng = createRng(seed);
  const normal = createGaussian(rng);
  const rows = TRAIN_ROWS + TEST_ROWS;
  const p = base.cols;
  const offset = span[0] + Math.floor(rng() * (span[1] - span[0] - rows));
  const m = sliceRows(base, offset, offset + rows);
  const sigma = columnStats(sliceRows(m, 0, TRAIN_ROWS)).std;
  const start = TRAIN_ROWS + Math.floor(uniform(rng, 100, 200));
  const fault: Window = { start, end: Math.min(rows, start + Math.floor(uniform(rng, 300, 450))) };
  const anomaly = new Uint8Array(rows);
  const scored = new Uint8Array(rows).fill(1, TRAIN_ROWS);
  const x = m.data;
  const add = (r: number, c: number, v: number) => (x[r * p + c] += v);
  const magnitude = uniform(rng, 3, 8);
  const rampRows = Math.floor(uniform(rng, 10, 60));
  const isFault = (FAULT_KINDS as readonly string[]).includes(kind);
  if (isFault) anomaly.fill(1, fault.start, fault.end);
  else scored.fill(0, fault.start, fault.start + SETTLING_ROWS);

  switch (kind) {
    case 'leak': {
      // Pressure after the pump falls and the flow through the leak adds to the measured flow.
      const flowShare = uniform(rng, 0.5, 1);
      for (let r = fault.start; r < fault.end; r++) {
        const k = magnitude * ramp(r - fault.start, rampRows);
        add(r, PRESSURE, -k * sigma[PRESSURE]);
        add(r, FLOW, k * flowShare * sigma[FLOW]);
      }
      break;
    }
    case 'imbalance': {
      // Vibration amplitude up at the rotation frequency: the RMS of both accelerometers rises, beating slowly.
      const beat = uniform(rng, 5, 20);
      for (let r = fault.start; r < fault.end; r++) {
        const k = magnitude * ramp(r - fault.start, rampRows) * (1 + 0.3 * Math.sin((2 * Math.PI * r) / beat));
        add(r, ACC1, k * sigma[ACC1]);
        add(r, ACC2, k * uniform(rng, 0.5, 1) * sigma[ACC2]);
      }
      break;
    }
    case 'cavitation': {
      // Bursts of vibration, and a noisier, slightly lower pressure.
      let burst = 0;
      for (let r = fault.start; r < fault.end; r++) {
        if (burst === 0 && rng() < 0.1) burst = Math.floor(uniform(rng, 3, 12));
        if (burst > 0) {
          burst--;
          const k = uniform(rng, 0.5, 1) * magnitude;
          add(r, ACC1, k * sigma[ACC1]);
          add(r, ACC2, k * sigma[ACC2]);
        }
        add(r, PRESSURE, (normal() * magnitude * 0.5 - magnitude * 0.3) * sigma[PRESSURE]);
      }
      break;
    }
    case 'drift': {
      // A sensor (not one of the slow temperatures) drifts away from its calibration, linearly over the window.
      const c = pick(rng, [ACC1, ACC2, CURRENT, PRESSURE, VOLTAGE, FLOW]);
      const sign = rng() < 0.5 ? -1 : 1;
      for (let r = fault.start; r < fault.end; r++) add(r, c, (sign * 1.5 * magnitude * sigma[c] * (r - fault.start + 1)) / (fault.end - fault.start));
      break;
    }
    case 'stuck': {
      // A sensor freezes at its last reading.
      const c = Math.floor(rng() * p);
      const value = x[(fault.start - 1) * p + c];
      for (let r = fault.start; r < fault.end; r++) x[r * p + c] = value;
      break;
    }
    case 'spikes': {
      // Isolated spikes on random sensors; only the spiking rows are anomalous.
      anomaly.fill(0);
      for (let r = fault.start; r < fault.end; r++) {
        if (rng() >= 0.04) continue;
        const c = Math.floor(rng() * p);
        add(r, c, (rng() < 0.5 ? -1 : 1) * 2 * magnitude * sigma[c]);
        anomaly[r] = 1;
      }
      break;
    }
    case 'variance': {
      // A sensor's noise grows: its departures from a 30-row trailing mean are multiplied.
      const c = pick(rng, [ACC1, ACC2, CURRENT, PRESSURE, VOLTAGE, FLOW]);
      const factor = 1 + magnitude / 2;
      let sum = 0;
      const level = new Float64Array(rows);
      for (let r = 0; r < rows; r++) {
        sum += x[r * p + c] - (r >= 30 ? x[(r - 30) * p + c] : 0);
        level[r] = sum / Math.min(30, r + 1);
      }
      for (let r = fault.start; r < fault.end; r++) x[r * p + c] = level[r] + (x[r * p + c] - level[r]) * factor;
      break;
    }
    case 'setpoint': {
      // Not a fault: the operator moves the flow set-point; current and pressure follow; kept to the end.
      const d = uniform(rng, 1, 2.5) * (rng() < 0.5 ? -1 : 1);
      for (let r = fault.start; r < rows; r++) {
        const k = d * ramp(r - fault.start, 30);
        add(r, FLOW, k * sigma[FLOW]);
        add(r, CURRENT, 0.5 * k * sigma[CURRENT]);
        add(r, PRESSURE, 0.5 * k * sigma[PRESSURE]);
      }
      break;
    }
    case 'regime': {
      // Not a fault: the test bed is later in its run: the rest of the experiment comes from another stretch of normal operation.
      const from = span[0] + Math.floor(rng() * (span[1] - span[0] - (rows - fault.start)));
      x.set(base.data.subarray(from * p, (from + rows - fault.start) * p), fault.start * p);
      break;
    }
  }
  return { name: `${kind}-${seed}`, kind, features: m, anomaly, scored };
}

/** Seeds of a half: disjoint between the halves. */
export function suiteSeeds(half: SuiteHalf, perKind: number): number[] {
  const first = half === 'tuning' ? 1 : 100_001;
  return Array.from({ length: perKind }, (_, i) => first + i);
}

/** `perKind` experiments of every scenario kind for one half of the suite. */
export function faultSuite(base: Matrix, half: SuiteHalf, perKind: number): Experiment[] {
  const span = halfSpan(base, half);
  return SCENARIO_KINDS.flatMap((kind, k) => suiteSeeds(half, perKind).map((seed) => generateExperiment(base, kind, seed * 31 + k, span)));
}
