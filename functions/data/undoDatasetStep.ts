import { pipelineDeps } from '../../shared/aws/pipelineDeps.js';
import { undoStep } from '../../shared/data/pipeline/stages.js';
import { taskHandler } from '../../shared/platform/taskHandler.js';

const deps = pipelineDeps();

/** The compensation of the dataset pipeline's steps: removes what the failed run wrote. */
export const handler = taskHandler(async (event: unknown) => undoStep(deps, event));
