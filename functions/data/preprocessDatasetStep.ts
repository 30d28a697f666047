import { pipelineDeps } from '../../shared/aws/pipelineDeps.js';
import { pipelineInput, preprocessStep } from '../../shared/data/pipeline/stages.js';
import { taskHandler } from '../../shared/platform/taskHandler.js';

const deps = pipelineDeps();

/** A dataset pipeline step, invoked by the state machine. */
export const handler = taskHandler(async (event: unknown) => preprocessStep(deps, pipelineInput.parse(event)));
