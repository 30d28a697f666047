import { z } from 'zod';
import { pipelineDeps } from '../../shared/aws/pipelineDeps.js';
import { planStep } from '../../shared/data/pipeline/chunks.js';
import { pipelineInput } from '../../shared/data/pipeline/stages.js';
import { readConfig } from '../../shared/platform/config.js';
import { taskHandler } from '../../shared/platform/taskHandler.js';

const MiB = 1024 * 1024;

/** When a file is split, and how: set by the deployment (stacks/config.ts), checked at load. */
const chunking = readConfig(
  z.object({
    /** Files larger than this are cut into chunks for a Distributed Map; smaller ones are streamed by one function per step. */
    DATASET_SPLIT_BYTES: z.coerce.number().int().positive().default(512 * MiB),
    /** About this many bytes per chunk (more when the file would need more than DATASET_MAX_CHUNKS). */
    DATASET_CHUNK_BYTES: z.coerce.number().int().positive().default(128 * MiB),
    /** Neighbouring bytes each chunk's preprocessing reads on either side, to resample, de-duplicate and impute across its edges. */
    DATASET_CHUNK_HALO_BYTES: z.coerce.number().int().nonnegative().default(MiB),
    DATASET_MAX_CHUNKS: z.coerce.number().int().min(1).max(1000).default(500),
  }),
);

const deps = pipelineDeps();

/** The first dataset pipeline step: records the run, plans chunks for a large file. */
export const handler = taskHandler(async (event: unknown) =>
  planStep(deps, pipelineInput.parse(event), {
    splitBytes: chunking.DATASET_SPLIT_BYTES,
    chunkBytes: chunking.DATASET_CHUNK_BYTES,
    haloBytes: chunking.DATASET_CHUNK_HALO_BYTES,
    maxChunks: chunking.DATASET_MAX_CHUNKS,
  }),
);
