import { NotFoundError } from '../platform/errors.js';
import type { Page } from '../platform/page.js';
import type { NewSensor, Sensor } from './sensor.js';
import type { SensorFilter, SensorRepository } from './sensorRepository.js';

/**
 * Registers a sensor for a tenant.
 * Primary course: the id is new for the tenant, the sensor is stored with its creation time.
 * Alternative: the id exists, ConflictError (409), nothing is overwritten.
 */
export async function registerSensor(repository: SensorRepository, tenant: string, input: NewSensor, now = new Date()): Promise<Sensor> {
  const sensor: Sensor = { ...input, createdAt: now.toISOString() };
  await repository.create(tenant, sensor);
  return sensor;
}

/** A tenant's sensor; another tenant's or an unknown id is the same 404, so ids do not leak. */
export async function getSensor(repository: Pick<SensorRepository, 'get'>, tenant: string, id: string): Promise<Sensor> {
  const found = await repository.get(tenant, id);
  if (!found) throw new NotFoundError(`No sensor "${id}".`);
  return found;
}

export function listSensors(repository: SensorRepository, tenant: string, filter: SensorFilter, page: { limit: number; cursor?: string }): Promise<Page<Sensor>> {
  return repository.list(tenant, filter, page);
}
