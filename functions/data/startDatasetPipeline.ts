import { dynamoDatasetRepository } from '../../shared/aws/datasetRepository.js';
import { stepFunctionsStarter } from '../../shared/aws/workflowStarter.js';
import { startDatasetPipeline } from '../../shared/data/pipeline/start.js';
import { boundName } from '../../shared/platform/config.js';
import { logger } from '../../shared/platform/observability.js';
import { taskHandler } from '../../shared/platform/taskHandler.js';

const deps = { datasets: dynamoDatasetRepository(), workflows: stepFunctionsStarter(boundName('STATE_MACHINE', 'datasetPipeline')) };

/** S3 "Object Created" (via EventBridge) under datasets/<tenant>/<id>/raw/ starts one pipeline run per object version. */
export const handler = taskHandler(async (event: unknown) => {
  const result = await startDatasetPipeline(deps, event);
  // An upload for a dataset nobody registered is kept in S3 but not processed: say so loudly.
  if (result.outcome === 'unknown-dataset') logger.warn('upload for an unknown dataset not processed', { ...result });
  else logger.info('pipeline', { ...result });
  return result;
});
