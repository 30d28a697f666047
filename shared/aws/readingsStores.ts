import { z } from 'zod';
import { boundName, readConfig } from '../platform/config.js';
import { DependencyError } from '../platform/errors.js';
import { tables } from '../platform/resources.js';
import { bucketSpanMs } from '../sensors/readingBucket.js';
import type { ReadingsStore } from '../sensors/readingsStore.js';
import { cachedSensors } from '../sensors/sensorCache.js';
import { dynamoReadingsStore } from './dynamoReadingsStore.js';
import { dynamoSensorRepository } from './sensorRepository.js';

/** Where readings are kept, set by the deploy options (`-c readingsStore=...`, `-c readingsRetentionDays=N`). */
export const readingsStoreEnv = z.object({
  READINGS_STORE: z.enum(['dynamodb', 'timestream']).default('dynamodb'),
  /** Days a bucket of readings is kept after its end (DynamoDB TTL, Timestream memory and magnetic retention); 0 keeps them. */
  READINGS_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(365),
  TIMESTREAM_DATABASE: z.string().optional(),
  TIMESTREAM_TABLE: z.string().optional(),
});

/**
 * The readings store of this function, chosen by READINGS_STORE. The DynamoDB store sizes a
 * sensor's buckets by its registered sampling interval, read through the per-container sensor
 * cache (functions using it, the scorer included, are bound to the sensors table for reading).
 */
export async function readingsStoreFromEnv(): Promise<ReadingsStore> {
  const config = readConfig(readingsStoreEnv);
  if (config.READINGS_STORE === 'timestream') {
    if (!config.TIMESTREAM_DATABASE || !config.TIMESTREAM_TABLE) throw new Error('Invalid configuration: READINGS_STORE=timestream needs TIMESTREAM_DATABASE and TIMESTREAM_TABLE');
    const { timestreamReadingsStore } = await import('./timestreamReadingsStore.js');
    return timestreamReadingsStore({ database: config.TIMESTREAM_DATABASE, table: config.TIMESTREAM_TABLE });
  }
  const sensors = cachedSensors(dynamoSensorRepository());
  return dynamoReadingsStore({
    tableName: boundName('TABLE', tables.readings.name),
    retentionDays: config.READINGS_RETENTION_DAYS,
    spanOf: async (tenant, sensorId) => {
      const sensor = await sensors.get(tenant, sensorId);
      // Only readings of registered sensors are queued; not finding one is a read that lags its registration,
      // and guessing the span would put readings in the wrong buckets. The message comes back later instead.
      if (!sensor) throw new DependencyError(`Sensor ${sensorId} of ${tenant} is not readable yet; its readings are retried.`);
      return bucketSpanMs(sensor.samplingIntervalSeconds);
    },
  });
}
