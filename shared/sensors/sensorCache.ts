import type { Sensor } from './sensor.js';
import type { SensorRepository } from './sensorRepository.js';

export interface SensorCacheOptions {
  /** How long a registered sensor is trusted without reading it again. */
  knownTtlMs?: number;
  /** How long "not registered" is remembered: short, so a sensor registered just now is soon seen. */
  unknownTtlMs?: number;
  /** Entries kept at most; the oldest go first. */
  maxEntries?: number;
  now?: () => number;
}

/**
 * Registered sensors cached per container: one DynamoDB read per sensor per TTL, not per reading or
 * request. Concurrent lookups of one sensor share the read; a failed read is not cached.
 */
export function cachedSensors(repository: Pick<SensorRepository, 'get'>, options: SensorCacheOptions = {}) {
  const { knownTtlMs = 60_000, unknownTtlMs = 10_000, maxEntries = 100_000, now = Date.now } = options;
  const entries = new Map<string, { expiresAt: number; sensor: Promise<Sensor | undefined> }>();
  return {
    get(tenant: string, id: string): Promise<Sensor | undefined> {
      const key = `${tenant}\u0000${id}`;
      const hit = entries.get(key);
      if (hit && hit.expiresAt > now()) return hit.sensor;
      entries.delete(key);
      const sensor = repository.get(tenant, id);
      const entry = { expiresAt: Number.POSITIVE_INFINITY, sensor };
      entries.set(key, entry);
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      sensor.then(
        (found) => (entry.expiresAt = now() + (found ? knownTtlMs : unknownTtlMs)),
        () => entries.get(key) === entry && entries.delete(key),
      );
      return sensor;
    },
  };
}
export type SensorLookup = ReturnType<typeof cachedSensors>;
