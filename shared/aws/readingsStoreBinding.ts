import { z } from 'zod';
import { boundName, readConfig } from '../platform/config.js';
import { tables } from '../platform/resources.js';
import { bucketSpanMs } from '../sensors/readingBucket.js';
import type { ReadingsStore } from '../sensors/readingsStore.js';
import type { SensorRepository } from '../sensors/sensorRepository.js';
import { dynamoReadingsStore } from './dynamoReadingsStore.js';

/** The writer's retention option: a score write rewrites a bucket, so it must keep the bucket's expiry as the writer set it. */
const retentionEnv = z.object({ READINGS_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(365) });

/**
 * The readings store the scorer writes scores into: the DynamoDB store, its buckets sized from the
 * sensor's sampling interval as the writer sizes them, with the writer's retention. Where the
 * readings store is chosen by deploy option, this is the writer's choice to follow.
 */
export function readingsStoreForScores(sensors: Pick<SensorRepository, 'get'>, env: NodeJS.ProcessEnv = process.env): ReadingsStore {
  return dynamoReadingsStore({
    tableName: boundName('TABLE', tables.readings.name, env),
    spanOf: async (tenant, sensorId) => bucketSpanMs((await sensors.get(tenant, sensorId))?.samplingIntervalSeconds),
    retentionDays: readConfig(retentionEnv, env).READINGS_RETENTION_DAYS,
  });
}
