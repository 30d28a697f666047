import type { PipelineDeps } from '../data/pipeline/stages.js';
import { s3DatasetObjects } from './datasetObjects.js';
import { dynamoDatasetRepository } from './datasetRepository.js';
import { eventBusPublisher } from './eventBus.js';

/** The adapters every dataset pipeline step uses, created once per container. */
export const pipelineDeps = (): PipelineDeps => ({ datasets: dynamoDatasetRepository(), objects: s3DatasetObjects(), events: eventBusPublisher() });
