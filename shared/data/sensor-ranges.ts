/**
 * Expected ranges from the sensor registry: a dataset's sensor column that maps to a registered
 * sensor (by its declared sensorId, else by a column name that is a sensor id of the tenant)
 * takes that sensor's expected range and unit, so that the quality report flags values outside
 * it. What the column declares itself wins. Pure domain code: the registry is a lookup function.
 */
import { resourceId } from '../platform/ids.js';
import type { DatasetSchema, ExpectedRange, SensorColumn } from './dataset-schema.js';

/** What the registry knows of one of the tenant's sensors, or undefined when it has none by that id. */
export type SensorLookup = (id: string) => Promise<{ unit?: string; expectedRange?: ExpectedRange } | undefined>;

/** A sensorId that is not (or no longer) in the registry gives its column no range. */
export async function withRegistryRanges(schema: DatasetSchema, lookup: SensorLookup): Promise<DatasetSchema> {
  const sensorColumns = await Promise.all(
    schema.sensorColumns.map(async (column): Promise<SensorColumn> => {
      const id = column.sensorId ?? (resourceId.safeParse(column.name).success ? column.name : undefined);
      if (id === undefined || (column.expectedRange && column.unit)) return column;
      const sensor = await lookup(id);
      if (!sensor) return column;
      return {
        ...column,
        ...(column.unit === undefined && sensor.unit !== undefined ? { unit: sensor.unit } : {}),
        ...(column.expectedRange === undefined && sensor.expectedRange !== undefined ? { expectedRange: sensor.expectedRange } : {}),
        ...(column.sensorId === undefined ? { sensorId: id } : {}),
      };
    }),
  );
  return { ...schema, sensorColumns };
}
