import type { Matrix } from '../ml/multivariate/matrix.js';
import { NotFoundError, UnprocessableError } from '../platform/errors.js';
import { anomalyLabels, labelPoints } from './anomalies.js';
import type { EpisodeStore } from './episode.js';
import type { ReadingsStore } from './readingsStore.js';
import type { Sensor } from './sensor.js';

export interface AlignedRows {
  /** Epoch ms of each row: the first feature's reading times. */
  timestamps: number[];
  /** One column per feature, in the order asked. */
  matrix: Matrix;
  /** Rows of the first feature left out because another feature had no reading close enough. */
  droppedRows: number;
}

/**
 * Readings of several sensors as rows a multivariate model takes: one row per reading of the first
 * sensor, with each other sensor's reading nearest in time, when it is within `toleranceMs` (the
 * sampling interval: sensors of one asset are not sampled at the same instant). Series sorted by time.
 */
export function alignReadings(series: readonly (readonly { timestamp: number; value: number }[])[], toleranceMs: number): AlignedRows {
  const [reference, ...others] = series;
  const cols = series.length;
  const data = new Float64Array((reference?.length ?? 0) * cols);
  const timestamps: number[] = [];
  const cursors = others.map(() => 0);
  let droppedRows = 0;
  for (const r of reference ?? []) {
    const row = [r.value];
    for (let k = 0; k < others.length; k++) {
      const other = others[k];
      // Two pointers: advance while the next reading is at least as close to this row's time.
      while (cursors[k] + 1 < other.length && Math.abs(other[cursors[k] + 1].timestamp - r.timestamp) <= Math.abs(other[cursors[k]].timestamp - r.timestamp)) cursors[k]++;
      const near = other[cursors[k]];
      if (!near || Math.abs(near.timestamp - r.timestamp) > toleranceMs) break;
      row.push(near.value);
    }
    if (row.length < cols) {
      droppedRows++;
      continue;
    }
    data.set(row, timestamps.length * cols);
    timestamps.push(r.timestamp);
  }
  return { timestamps, matrix: { rows: timestamps.length, cols, data: data.slice(0, timestamps.length * cols) }, droppedRows };
}

export interface LabelledHistoryDeps {
  readings: Pick<ReadingsStore, 'range'>;
  episodes: EpisodeStore;
}

/**
 * The labelled history of sensors over [from, to): their readings aligned into rows, and a 0/1
 * label per row, 1 inside an episode an operator confirmed on any of the sensors. What evaluating a
 * model against the operators' verdicts needs, and what training leaves out (the rows labelled 1).
 */
export async function labelledHistory(
  deps: LabelledHistoryDeps,
  tenant: string,
  request: { sensorIds: readonly string[]; from: number; to: number; toleranceMs: number },
): Promise<AlignedRows & { labels: (0 | 1)[] }> {
  const series = await Promise.all(
    request.sensorIds.map(async (id) => {
      const points: { timestamp: number; value: number }[] = [];
      for await (const r of deps.readings.range(tenant, id, request.from, request.to)) points.push({ timestamp: r.timestamp, value: r.value });
      return points;
    }),
  );
  const rows = alignReadings(series, request.toleranceMs);
  const windows = (
    await Promise.all(request.sensorIds.map((sensorId) => anomalyLabels(deps.episodes, tenant, { sensorId, to: new Date(request.to).toISOString() })))
  ).flatMap((l) => l.anomalies);
  return { ...rows, labels: labelPoints(rows.timestamps, windows) };
}

/** Rows an export holds at most: what POST /ml/evaluate reads of a dataset. */
export const MAX_HISTORY_ROWS = 200_000;

/**
 * A sensor's (and its companions') labelled history as CSV, `timestamp,<sensor ids>,label`: the
 * dataset the ml context can register and evaluate a model on (label column `label`).
 * Primary course: the sensors are read (the first one's sampling interval aligns the others), the
 * readings of [from, to) are aligned into rows and labelled by the operators' confirmed episodes.
 * Alternatives: an unknown sensor, 404; more than MAX_HISTORY_ROWS rows, 422.
 */
export async function labelledHistoryCsv(
  deps: LabelledHistoryDeps & { sensors: { get(tenant: string, id: string): Promise<Pick<Sensor, 'samplingIntervalSeconds'> | undefined> } },
  tenant: string,
  request: { sensorIds: readonly string[]; from: number; to: number },
): Promise<string> {
  const sensors = await Promise.all(request.sensorIds.map((id) => deps.sensors.get(tenant, id)));
  const unknown = request.sensorIds.filter((_, i) => !sensors[i]);
  if (unknown.length > 0) throw new NotFoundError(`No sensor ${unknown.map((id) => `"${id}"`).join(', ')}.`);
  const toleranceMs = (sensors[0]?.samplingIntervalSeconds ?? 60) * 1000;
  const history = await labelledHistory(deps, tenant, { ...request, toleranceMs });
  const { rows, cols, data } = history.matrix;
  if (rows > MAX_HISTORY_ROWS) throw new UnprocessableError(`The range holds ${rows} rows; export at most ${MAX_HISTORY_ROWS} at a time (a shorter range).`, { code: 'range_too_large', maxRows: MAX_HISTORY_ROWS });
  const lines = [['timestamp', ...request.sensorIds, 'label'].join(',')];
  for (let r = 0; r < rows; r++) lines.push([new Date(history.timestamps[r]).toISOString(), ...data.subarray(r * cols, (r + 1) * cols), history.labels[r]].join(','));
  return `${lines.join('\n')}\n`;
}
