import { resourceId } from '../platform/ids.js';
import type { ReadingsMessage, QueuedReading } from './readingMessages.js';
import { maxFutureSkewMs, minReadingTimestamp, type IngestAnswer, type ReadingsBatch, type Rejection } from './readingsContract.js';
import type { Sensor } from './sensor.js';

/** Where accepted readings go: the ingest queue. Resolves once every message is durably queued. */
export interface ReadingsQueue {
  /** Sends the messages (split when too large); resolves with the number of queue messages sent. */
  send(messages: readonly ReadingsMessage[]): Promise<number>;
}

export interface IngestDeps {
  /** The tenant's registered sensors (cached: see sensorCache.ts). */
  sensors: { get(tenant: string, id: string): Promise<Sensor | undefined> };
  queue: ReadingsQueue;
  now?: () => number;
}

const isoDateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/** Epoch ms of a timestamp of the request, or the reason it is refused. */
function timestampOf(t: number | string, latest: number): number | Pick<Rejection, 'reason' | 'detail'> {
  let ms: number;
  if (typeof t === 'number') {
    if (!Number.isSafeInteger(t)) return { reason: 'invalid_timestamp', detail: 'Epoch milliseconds must be a whole number' };
    ms = t;
  } else {
    ms = isoDateTime.test(t) ? Date.parse(t) : Number.NaN;
    if (!Number.isFinite(ms)) return { reason: 'invalid_timestamp', detail: 'Not an ISO 8601 date-time with a zone' };
  }
  if (ms < minReadingTimestamp) return { reason: 'invalid_timestamp', detail: 'Before 2000-01-01 (epoch seconds instead of milliseconds?)' };
  if (ms > latest) return { reason: 'future_timestamp', detail: `More than ${maxFutureSkewMs / 60_000} minutes ahead of the API's clock` };
  return ms;
}

/**
 * Takes a batch of readings in.
 * Primary course: each reading is checked on its own; those of registered sensors with a finite
 * value and a plausible timestamp are grouped per sensor, sorted by time, and queued; the answer
 * counts them and lists every refused reading with its index and reason.
 * Alternative: the queue cannot take them, DependencyError (503): nothing is acknowledged, and a
 * retry is safe because the store keeps a reading once per (sensor, timestamp).
 */
export async function ingestReadings(deps: IngestDeps, tenant: string, batch: ReadingsBatch, correlationId?: string): Promise<IngestAnswer> {
  const latest = (deps.now ?? Date.now)() + maxFutureSkewMs;
  const rejected: Rejection[] = [];
  const bySensor = new Map<string, { readings: QueuedReading[]; indexes: number[] }>();
  const validIds = new Map<string, boolean>();

  const take = (index: number, sensorId: string, timestamp: number | string, value: number | null, quality: number | null | undefined) => {
    let valid = validIds.get(sensorId);
    if (valid === undefined) validIds.set(sensorId, (valid = resourceId.safeParse(sensorId).success));
    if (!valid) return rejected.push({ index, reason: 'invalid_sensor_id', detail: 'Not a sensor id' });
    if (value === null || !Number.isFinite(value)) return rejected.push({ index, reason: 'invalid_value', detail: 'The value must be a finite number' });
    const ms = timestampOf(timestamp, latest);
    if (typeof ms !== 'number') return rejected.push({ index, ...ms });
    let group = bySensor.get(sensorId);
    if (!group) bySensor.set(sensorId, (group = { readings: [], indexes: [] }));
    group.readings.push(quality === null || quality === undefined ? { timestamp: ms, value } : { timestamp: ms, value, quality });
    group.indexes.push(index);
  };

  if ('readings' in batch) {
    const readings = batch.readings;
    for (let i = 0; i < readings.length; i++) take(i, readings[i].sensorId, readings[i].timestamp, readings[i].value, readings[i].quality);
  } else {
    const { sensorId, timestamps, values, qualities } = batch;
    for (let i = 0; i < timestamps.length; i++) take(i, sensorId, timestamps[i], values[i], qualities?.[i]);
  }

  const sensorIds = [...bySensor.keys()];
  const registered = await Promise.all(sensorIds.map((id) => deps.sensors.get(tenant, id)));
  const messages: ReadingsMessage[] = [];
  let accepted = 0;
  sensorIds.forEach((sensorId, i) => {
    const group = bySensor.get(sensorId)!;
    if (!registered[i]) {
      for (const index of group.indexes) rejected.push({ index, reason: 'unknown_sensor', detail: `No sensor "${sensorId}" is registered` });
      return;
    }
    accepted += group.readings.length;
    messages.push({ tenant, sensorId, readings: group.readings.sort((a, b) => a.timestamp - b.timestamp), ...(correlationId ? { correlationId } : {}) });
  });
  if (messages.length > 0) await deps.queue.send(messages);
  return { accepted, rejected: rejected.sort((a, b) => a.index - b.index) };
}
