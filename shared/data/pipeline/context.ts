/** What every step of the dataset pipeline shares: its ports, the state it carries, the preprocessing it applies. */
import { z } from 'zod';
import type { EventPublisher } from '../../platform/events.js';
import type { DatasetSchema } from '../dataset-schema.js';
import type { PreprocessRecipeInput } from '../preprocess-recipe.js';
import type { SensorRepository } from '../../sensors/sensorRepository.js';
import type { DatasetObjects, DatasetRepository } from '../registry/datasetRepository.js';
import { withRegistryRanges } from '../sensor-ranges.js';

export interface PipelineDeps {
  datasets: DatasetRepository;
  objects: DatasetObjects;
  /** The sensor registry, for expected ranges (read by Plan and Validate). */
  sensors: Pick<SensorRepository, 'get'>;
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

/** The schema with the expected ranges (and units) of the registered sensors its columns map to. */
export async function schemaWithRanges(deps: PipelineDeps, tenant: string, schema: DatasetSchema): Promise<DatasetSchema> {
  return withRegistryRanges(schema, (id) => deps.sensors.get(tenant, id));
}
