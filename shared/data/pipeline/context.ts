/** What every step of the dataset pipeline shares: its ports, the state it carries, the preprocessing it applies. */
import { z } from 'zod';
import type { EventPublisher } from '../../platform/events.js';
import type { DatasetSchema } from '../dataset-schema.js';
import type { PreprocessRecipeInput } from '../preprocess-recipe.js';
import type { DatasetObjects, DatasetRepository } from '../registry/datasetRepository.js';

export interface PipelineDeps {
  datasets: DatasetRepository;
  objects: DatasetObjects;
  events: EventPublisher;
  now?: () => Date;
}

/** What the state machine carries from step to step. */
export const pipelineInput = z.object({
  tenant: z.string(),
  datasetId: z.string(),
  key: z.string(),
  eTag: z.string().optional(),
  runId: z.string().describe('The execution name: one per (object, version)'),
  steps: z.record(z.string(), z.object({ output: z.unknown() })).optional(),
});
export type PipelineInput = z.infer<typeof pipelineInput>;

/**
 * The preprocessing the pipeline applies: sort (unless validation saw every timestamp in order),
 * drop duplicates, resample to the declared interval, impute short gaps linearly.
 */
export const pipelineRecipe = (schema: DatasetSchema, inTimeOrder: boolean): PreprocessRecipeInput => ({
  sort: !inTimeOrder,
  dropDuplicates: true,
  ...(schema.expectedIntervalSeconds ? { resample: {} } : {}),
  impute: { method: 'linear' },
});
