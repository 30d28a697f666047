/** SKAB's csv files as the benchmarks read them: `../shared/datasets/skab` (or SKAB_DIR). */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Matrix } from '../shared/ml/multivariate/matrix.js';

export const SKAB_ROOT = process.env.SKAB_DIR ?? path.resolve(import.meta.dirname, '../../shared/datasets/skab');

export interface SkabFile {
  /** The file's path. */
  file: string;
  name: string;
  times: string[];
  features: Matrix;
  featureNames: string[];
  anomaly: Uint8Array;
}

/** Reads one SKAB csv (';'-separated: datetime, 8 sensors, anomaly, changepoint). */
export function readSkabCsv(file: string): SkabFile {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
  const header = lines[0].split(';');
  const sensorCols = header.map((_, i) => i).filter((i) => i > 0 && header[i] !== 'anomaly' && header[i] !== 'changepoint');
  const anomalyCol = header.indexOf('anomaly');
  const body = lines.slice(1).map((l) => l.split(';'));
  const data = new Float64Array(body.length * sensorCols.length);
  body.forEach((cells, r) => sensorCols.forEach((c, j) => (data[r * sensorCols.length + j] = Number(cells[c]))));
  return {
    file,
    name: path.basename(file),
    times: body.map((cells) => cells[0]),
    features: { rows: body.length, cols: sensorCols.length, data },
    featureNames: sensorCols.map((c) => header[c]),
    anomaly: Uint8Array.from(body, (cells) => (anomalyCol >= 0 && Number(cells[anomalyCol]) === 1 ? 1 : 0)),
  };
}

/** The 16 valve1 experiments, in their numeric order. */
export function readValve1(): SkabFile[] {
  const dir = path.join(SKAB_ROOT, 'valve1');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.csv'))
    .sort((a, b) => a.length - b.length || a.localeCompare(b))
    .map((f) => readSkabCsv(path.join(dir, f)));
}
