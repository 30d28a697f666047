import type { PipelineDeps } from '../data/pipeline/stages.js';
import { lazy } from './clients.js';
import { s3DatasetObjects } from './datasetObjects.js';
import { dynamoDatasetRepository } from './datasetRepository.js';
import { eventBusPublisher } from './eventBus.js';
import { dynamoSensorRepository } from './sensorRepository.js';

/**
 * The adapters of the dataset pipeline steps, each created on first use: the catalog binds each step
 * only what it touches (no bus for Validate, no table for a chunk, no bucket for Publish), so
 * creating them all at load would fail the steps at cold start.
 */
export const pipelineDeps = (): PipelineDeps => ({
  datasets: lazy(() => dynamoDatasetRepository()),
  objects: lazy(() => s3DatasetObjects()),
  events: lazy(() => eventBusPublisher()),
  sensors: lazy(() => dynamoSensorRepository()),
});
