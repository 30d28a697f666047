import { UnprocessableError } from '../../platform/errors.js';
import type { SensorRepository } from '../../sensors/sensorRepository.js';
import type { DatasetSchema } from '../dataset-schema.js';

/**
 * Every sensorId a schema declares on its columns must be in the tenant's sensor registry: one
 * rule for registering a dataset and for validating data, so both give the same verdict.
 */
export async function assertKnownSensors(sensors: Pick<SensorRepository, 'get'>, tenant: string, schema: DatasetSchema | undefined): Promise<void> {
  const declared = [...new Set(schema?.sensorColumns.flatMap((c) => (c.sensorId ? [c.sensorId] : [])) ?? [])];
  const unknown = (await Promise.all(declared.map(async (id) => ((await sensors.get(tenant, id)) ? [] : [id])))).flat();
  if (unknown.length > 0)
    throw new UnprocessableError(
      `Columns map to sensors your registry does not have: ${unknown.map((id) => `"${id}"`).join(', ')}. Register them first (POST /api/v1/sensors), or leave sensorId out.`,
      { code: 'unknown_sensor', sensorIds: unknown },
    );
}
