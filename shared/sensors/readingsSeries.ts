import { NotFoundError, UnprocessableError, ValidationError } from '../platform/errors.js';
import type { ReadingsSeries } from './readingsContract.js';
import type { ReadingsStore, StoredReading } from './readingsStore.js';
import type { Sensor } from './sensor.js';

type Point = ReadingsSeries['points'][number];

/** Readings a request may go through (a Lambda reads about a million a second from the store). */
export const maxReadingsPerRead = 2_000_000;
const day = 86_400_000;

interface Bucket {
  min: number;
  max: number;
  sum: number;
  count: number;
  score?: number;
  label?: 0 | 1;
}

const iso = (ms: number) => new Date(ms).toISOString();

function rawPoint(r: StoredReading): Point {
  const p: Point = { timestamp: iso(r.timestamp), value: r.value };
  if (r.quality !== undefined) p.quality = r.quality;
  if (r.late) p.late = true;
  if (r.score !== undefined) p.score = r.score;
  if (r.label !== undefined) p.label = r.label;
  return p;
}

/**
 * A sensor's readings of [from, to), fit for a chart.
 * Primary course: when the range holds at most maxPoints readings they come back raw, each with its
 * score and label once scored; otherwise the range is cut into maxPoints buckets of equal width,
 * each with min, max, mean and count of its readings, the highest score and label 1 if any reading
 * has it. Memory stays at maxPoints whatever the range.
 * Alternatives: unknown sensor (or another tenant's), 404; from not before to, 400; a range with
 * more than maxReadingsPerRead readings, 422.
 */
export async function readSeries(
  deps: { store: ReadingsStore; sensors: { get(tenant: string, id: string): Promise<Sensor | undefined> } },
  tenant: string,
  sensorId: string,
  query: { from?: number; to?: number; maxPoints: number },
  now = Date.now(),
): Promise<ReadingsSeries> {
  const to = query.to ?? now;
  const from = query.from ?? to - day;
  if (from >= to) throw new ValidationError('from must be before to.', [{ pointer: 'query.from', message: 'Not before to' }]);
  if (!(await deps.sensors.get(tenant, sensorId))) throw new NotFoundError(`No sensor "${sensorId}".`);

  const { maxPoints } = query;
  const bucketMs = Math.max(1, Math.ceil((to - from) / maxPoints));
  let raw: StoredReading[] | null = [];
  const buckets = new Map<number, Bucket>();
  const addToBucket = (r: StoredReading) => {
    const index = Math.floor((r.timestamp - from) / bucketMs);
    let b = buckets.get(index);
    if (!b) buckets.set(index, (b = { min: r.value, max: r.value, sum: 0, count: 0 }));
    b.min = Math.min(b.min, r.value);
    b.max = Math.max(b.max, r.value);
    b.sum += r.value;
    b.count++;
    if (r.score !== undefined && (b.score === undefined || r.score > b.score)) b.score = r.score;
    if (r.label !== undefined && (b.label === undefined || r.label > b.label)) b.label = r.label;
  };
  let count = 0;
  for await (const r of deps.store.range(tenant, sensorId, from, to)) {
    if (++count > maxReadingsPerRead) throw new UnprocessableError(`The range holds more than ${maxReadingsPerRead} readings; ask for a shorter one.`);
    if (raw) {
      raw.push(r);
      if (raw.length <= maxPoints) continue;
      for (const kept of raw) addToBucket(kept);
      raw = null;
    } else addToBucket(r);
  }
  const base = { sensorId, from: iso(from), to: iso(to), count };
  if (raw) return { ...base, resolution: 'raw', points: raw.map(rawPoint) };
  const points = [...buckets.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([index, b]): Point => ({
      timestamp: iso(from + index * bucketMs),
      min: b.min,
      max: b.max,
      mean: b.sum / b.count,
      count: b.count,
      ...(b.score !== undefined ? { score: b.score } : {}),
      ...(b.label !== undefined ? { label: b.label } : {}),
    }));
  return { ...base, resolution: 'buckets', bucketMs, points };
}

const cell = (v: unknown) => (v === undefined ? '' : String(v));

/** The series as CSV: one line per reading (or bucket), with a header; empty cells where a point has no value. */
export function seriesCsv(series: ReadingsSeries): string {
  const columns = (series.resolution === 'raw' ? ['timestamp', 'value', 'quality', 'late', 'score', 'label'] : ['timestamp', 'min', 'max', 'mean', 'count', 'score', 'label']) as (keyof Point)[];
  const lines = [columns.join(',')];
  for (const p of series.points) lines.push(columns.map((c) => cell(p[c])).join(','));
  return `${lines.join('\n')}\n`;
}
