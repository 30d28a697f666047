import type { PipelineDeps } from '../data/pipeline/stages.js';
import type { SensorRepository } from '../sensors/sensorRepository.js';
import { s3DatasetObjects } from './datasetObjects.js';
import { dynamoDatasetRepository } from './datasetRepository.js';
import { eventBusPublisher } from './eventBus.js';
import { dynamoSensorRepository } from './sensorRepository.js';

/**
 * The adapters every dataset pipeline step uses, created once per container. The sensor registry
 * is opened on first use: only the steps that read it (Plan, Validate) are bound to its table.
 */
export const pipelineDeps = (): PipelineDeps => {
  let sensors: SensorRepository | undefined;
  return {
    datasets: dynamoDatasetRepository(),
    objects: s3DatasetObjects(),
    events: eventBusPublisher(),
    sensors: { get: (tenant, id) => (sensors ??= dynamoSensorRepository()).get(tenant, id) },
  };
};
