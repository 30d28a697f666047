import { pipelineDeps } from '../../shared/aws/pipelineDeps.js';
import { chunkInput, chunkStep } from '../../shared/data/pipeline/chunks.js';
import { taskHandler } from '../../shared/platform/taskHandler.js';

const deps = pipelineDeps();

/** One item of the dataset pipeline's Distributed Map: validates, profiles and preprocesses one chunk. */
export const handler = taskHandler(async (event: unknown) => chunkStep(deps, chunkInput.parse(event)));
