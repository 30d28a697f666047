import { boundName } from '../platform/config.js';
import { tables } from '../platform/resources.js';
import { bucketSpanMs } from '../sensors/readingBucket.js';
import type { ReadingsStore } from '../sensors/readingsStore.js';
import type { SensorRepository } from '../sensors/sensorRepository.js';
import { dynamoReadingsStore } from './dynamoReadingsStore.js';

/**
 * The readings store the scorer writes scores into: the DynamoDB store, its buckets sized from the
 * sensor's sampling interval as the writer sizes them. The retention must match the writer's, or a
 * score write would change a bucket's expiry: READINGS_RETENTION_DAYS, 0 (keep) when unset.
 */
export function readingsStoreForScores(sensors: Pick<SensorRepository, 'get'>, env: NodeJS.ProcessEnv = process.env): ReadingsStore {
  return dynamoReadingsStore({
    tableName: boundName('TABLE', tables.readings.name),
    spanOf: async (tenant, sensorId) => bucketSpanMs((await sensors.get(tenant, sensorId))?.samplingIntervalSeconds),
    retentionDays: Number(env.READINGS_RETENTION_DAYS ?? 0),
  });
}
