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
 * Stores the readings of messages of one sensor; answers the message to forward to the scorer.
 * The readings (merged and sorted; one per timestamp) go to the store, which keeps each (tenant,
 * sensor, timestamp) once and marks late ones; every reading comes back with its late mark,
 * stored now or found already stored, so a redelivery after a crash between storing and
 * forwarding still reaches the scorer (which de-duplicates by timestamp).
 */
export async function storeSensorReadings(store: ReadingsStore, messages: readonly ReadingsMessage[]): Promise<ReadingsMessage> {
  const { tenant, sensorId } = messages[0];
  const byTimestamp = new Map<number, QueuedReading>();
  for (const m of messages) for (const r of m.readings) if (!byTimestamp.has(r.timestamp)) byTimestamp.set(r.timestamp, r);
  const readings = [...byTimestamp.values()].sort((a, b) => a.timestamp - b.timestamp);
  const result = await store.put(
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
  return { tenant, sensorId, readings: forwarded, ...(correlationId ? { correlationId } : {}) };
}

/**
 * Stores a delivery's messages, grouped per sensor, then forwards what was stored to the scoring
 * queue in as few SendMessageBatch calls as the groups allow.
 * Primary course: each group is stored (in parallel), the stored groups are sent together; each
 * group's promise resolves once its readings are stored and forwarded.
 * Alternatives: a group's store fails, that group's promise rejects (its messages come back); the
 * forwarding fails, every stored group's promise rejects (they come back, find their readings
 * stored, and forward them again).
 */
export function storeAndForward(deps: WriterDeps, groups: readonly (readonly ReadingsMessage[])[]): Promise<void>[] {
  const stored = groups.map((messages) => storeSensorReadings(deps.store, messages));
  const forwarded = Promise.allSettled(stored).then(async (results) => {
    const messages = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    if (messages.length > 0) await deps.scoring.send(messages);
  });
  return stored.map((group) => group.then(() => forwarded));
}
