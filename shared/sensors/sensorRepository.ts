import type { Page } from '../platform/page.js';
import type { Sensor } from './sensor.js';

export interface SensorFilter {
  group?: string;
  type?: Sensor['type'];
}

/** The port the registry's use cases need; shared/aws has the DynamoDB adapter. */
export interface SensorRepository {
  /** Stores a new sensor; throws ConflictError when the tenant already has one with this id. */
  create(tenant: string, sensor: Sensor): Promise<void>;
  get(tenant: string, id: string): Promise<Sensor | undefined>;
  list(tenant: string, filter: SensorFilter, page: { limit: number; cursor?: string }): Promise<Page<Sensor>>;
}
