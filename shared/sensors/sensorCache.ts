import { tenantCache } from '../platform/tenantCache.js';
import type { Sensor } from './sensor.js';
import type { SensorRepository } from './sensorRepository.js';

export interface SensorCacheOptions {
  /** How long a registered sensor is trusted without reading it again (sensors are never changed once registered). */
  knownTtlMs?: number;
  /** How long "not registered" is remembered: short, so a sensor registered just now is soon seen; 0 keeps nothing. */
  unknownTtlMs?: number;
  /** Entries kept at most; the oldest go first. */
  maxEntries?: number;
  now?: () => number;
}

/** Registered sensors cached per container: one DynamoDB read per sensor per TTL, not per reading or request. */
export function cachedSensors(repository: Pick<SensorRepository, 'get'>, options: SensorCacheOptions = {}) {
  const { knownTtlMs = 60_000, unknownTtlMs = 10_000, maxEntries = 100_000, now } = options;
  return tenantCache<Sensor | undefined>((tenant, id) => repository.get(tenant, id), { ttlMs: (sensor) => (sensor ? knownTtlMs : unknownTtlMs), maxEntries, now });
}
export type SensorLookup = ReturnType<typeof cachedSensors>;
