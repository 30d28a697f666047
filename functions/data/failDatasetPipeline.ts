import { pipelineDeps } from '../../shared/aws/pipelineDeps.js';
import { failPipeline } from '../../shared/data/pipeline/stages.js';
import { logger } from '../../shared/platform/observability.js';
import { taskHandler } from '../../shared/platform/taskHandler.js';

const deps = pipelineDeps();

/**
 * Records a failed run: dataset FAILED with step and cause, `pipeline.failed` on the bus. The one
 * log entry of the failure, with the cause the dataset shows and the internals it does not; a run
 * that a newer one took over is no failure of the dataset.
 */
export const handler = taskHandler(async (event: unknown) => {
  const { detail, ...failure } = await failPipeline(deps, event);
  if (failure.recorded) logger.error('dataset pipeline run failed', { ...failure, ...detail });
  else logger.info('dataset pipeline run ended without recording a failure (a newer run has the dataset, or this one had published)', { ...failure, ...detail });
  return failure;
});
