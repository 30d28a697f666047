/** What every step of the dataset pipeline shares: its ports, the state it carries, the preprocessing it applies. */
import { z } from 'zod';
import { ConflictError } from '../../platform/errors.js';
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
  /** The raw object's version every read pins; null where the store has none (an unversioned bucket, the local cloud's s3rver). */
  versionId: z.string().nullish(),
  /** When the run was asked for (see runOrder): a run takes the dataset over only from earlier ones. */
  order: z.string().optional(),
  runId: z.string().describe('The execution name: one per (object, version), or per re-run'),
  /** The request that led to the run: recorded on the run, written on every log line of its steps, carried by its events. */
  correlationId: z.string().optional(),
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

/** The raw object as this run reads it: its key, pinned to the version the run was started for. */
export const rawObject = (input: PipelineInput) => ({ key: input.key, ...(input.versionId ? { versionId: input.versionId } : {}) });

/**
 * A newer run took the dataset over: this one stops, its compensations remove only its own
 * objects, and its failure record is skipped (the record's run is the newer one).
 */
export class RunSupersededError extends ConflictError {
  constructor(runId: string) {
    super(`Run ${runId} was superseded by a newer run of the dataset; it stops without touching the newer run's state.`);
  }
}

/** Throws RunSupersededError when a run-guarded update was skipped. */
export function assertCurrent(applied: boolean, input: PipelineInput): void {
  if (!applied) throw new RunSupersededError(input.runId);
}

/**
 * The order of runs of one dataset: when the run was asked for, then S3's sequencer (hex,
 * left-padded: S3 says to compare them so) for uploads of the same second. Plain strings that
 * compare as the runs happened.
 */
export function runOrder(at: Date | string, sequencer = ''): string {
  return `${new Date(at).toISOString()}/${sequencer.toUpperCase().padStart(32, '0')}`;
}

/**
 * An upload's order: an S3 event's time has whole seconds, so the upload counts from the end of
 * its second. A re-run asked earlier in that second (at a finer time) never outranks the file
 * uploaded after it; uploads of one second still compare by their sequencers.
 */
export function uploadOrder(eventTime: Date | string, sequencer = ''): string {
  return runOrder(`${new Date(eventTime).toISOString().slice(0, 19)}.999Z`, sequencer);
}

/**
 * A re-run's order: when it was asked for, and always after the run it replaces (a re-run is only
 * asked once that run is over, and it reads the dataset's current file), even one whose upload
 * counts from the end of the present second.
 */
export function rerunOrder(now: Date, replaced: string | undefined): string {
  const asked = runOrder(now);
  return replaced !== undefined && replaced >= asked ? `${replaced}+` : asked;
}
