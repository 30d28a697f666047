import type { ReadingsQueue } from './ingest.js';
import type { QueuedReading, ReadingsMessage } from './readingMessages.js';
import type { ReadingsStore } from './readingsStore.js';

export interface WriterDeps {
  store: ReadingsStore;
  /** The scoring queue. */
  scoring: ReadingsQueue;
}

/** Messages of one delivery that carry the same sensor: stored with one write per bucket instead of one per message. */
export const sensorKeyOf = (m: Pick<ReadingsMessage, 'tenant' | 'sensorId'>) => `${m.tenant}\u0000${m.sensorId}`;

/**
 * Stores the readings of messages of one sensor, then forwards them to the scorer.
 * Primary course: the readings (merged and sorted; one per timestamp) are put in the store, which
 * keeps each (tenant, sensor, timestamp) once and marks late ones; every reading is then sent on
 * to the scoring queue with its late mark, stored now or found already stored, so a redelivery
 * after a crash between the two steps still reaches the scorer (which de-duplicates by timestamp).
 * Alternative: the store or the queue fails; the error propagates and the messages come back.
 */
export async function storeAndForward(deps: WriterDeps, messages: readonly ReadingsMessage[]): Promise<void> {
  const { tenant, sensorId } = messages[0];
  const byTimestamp = new Map<number, QueuedReading>();
  for (const m of messages) for (const r of m.readings) if (!byTimestamp.has(r.timestamp)) byTimestamp.set(r.timestamp, r);
  const readings = [...byTimestamp.values()].sort((a, b) => a.timestamp - b.timestamp);
  const result = await deps.store.put(
    tenant,
    sensorId,
    readings.map((r) => (r.quality === undefined ? { timestamp: r.timestamp, value: r.value } : { timestamp: r.timestamp, value: r.value, quality: r.quality })),
  );
  const late = new Set(result.lateTimestamps ?? []);
  const forwarded: QueuedReading[] = readings.map((r) => {
    const out: QueuedReading = { timestamp: r.timestamp, value: r.value };
    if (r.quality !== undefined) out.quality = r.quality;
    if (late.has(r.timestamp)) out.late = true;
    return out;
  });
  const correlationId = messages.find((m) => m.correlationId)?.correlationId;
  await deps.scoring.send([{ tenant, sensorId, readings: forwarded, ...(correlationId ? { correlationId } : {}) }]);
}
