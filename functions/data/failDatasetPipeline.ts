import { pipelineDeps } from '../../shared/aws/pipelineDeps.js';
import { failPipeline } from '../../shared/data/pipeline/stages.js';
import { taskHandler } from '../../shared/platform/taskHandler.js';

const deps = pipelineDeps();

/** Records a failed run: dataset FAILED with step and cause, `pipeline.failed` on the bus. */
export const handler = taskHandler(async (event: unknown) => failPipeline(deps, event));
