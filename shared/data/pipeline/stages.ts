import { PassThrough } from 'node:stream';
import { z } from 'zod';
import { detailTypes } from '../../platform/events.js';
import { NotFoundError } from '../../platform/errors.js';
import { DatasetSchema } from '../dataset-schema.js';
import { preprocessDataset } from '../preprocess-dataset.js';
import { profileDataset } from '../profile-dataset.js';
import type { QualityReport } from '../quality-report.js';
import { assertValid, validateDataset } from '../validate-dataset.js';
import { failureDetail, timedOut, userFacingMessage, type TaskFailure } from '../../platform/failureCause.js';
import { datasetKeys, type Dataset, type DatasetStatus } from '../registry/dataset.js';
import { chunksOf, mergedPreprocess, mergedProfile, mergedValidation, wasSplit } from './chunks.js';
import { assertCurrent, pipelineInput, pipelineRecipe, rawObject, schemaWithRanges, type PipelineDeps, type PipelineInput } from './context.js';

export { pipelineInput, type PipelineDeps, type PipelineInput };


const validateOutput = z.object({
  rows: z.number(),
  validRows: z.number(),
  inTimeOrder: z.boolean().default(false),
  /** A split file whose chunks could not be used (a cut inside a quoted field): every step streams the whole file. */
  wholeFile: z.boolean().default(false),
});
const preprocessOutput = z.object({ rowsOut: z.number() });
const profileOutput = z.object({ errors: z.number(), warnings: z.number(), infos: z.number(), checks: z.array(z.string()) });

async function loadDataset(deps: PipelineDeps, input: PipelineInput): Promise<Dataset> {
  const dataset = await deps.datasets.get(input.tenant, input.datasetId);
  if (!dataset) throw new NotFoundError(`No dataset "${input.datasetId}" for this upload.`);
  return dataset;
}

const validated = (input: PipelineInput) => validateOutput.parse(input.steps?.Validate?.output);
const runKeys = (input: PipelineInput) => datasetKeys(input.tenant, input.datasetId).run(input.runId);

/** The schema Validate settled on, from the run's objects (a wide schema would not fit in the state). */
async function schemaOf(deps: PipelineDeps, input: PipelineInput): Promise<DatasetSchema> {
  const text = await deps.objects.getText(runKeys(input).schema);
  if (text === undefined) throw new Error(`The schema of run ${input.runId} is missing: the Validate step did not complete for this run.`);
  return DatasetSchema.parse(JSON.parse(text));
}

/** Records the step on the dataset while this run is its latest; a superseded run stops here. */
async function enterStep(deps: PipelineDeps, input: PipelineInput, status: DatasetStatus): Promise<void> {
  assertCurrent(await deps.datasets.update(input.tenant, input.datasetId, { status }, { runId: input.runId }), input);
}

/**
 * Validate: parse the raw file, check it against the declared schema (or infer one), write the
 * run's validation report (a split file's chunk partials, merged; the whole file read here when a
 * cut fell inside a quoted field, and then by every later step) and the schema the later steps
 * use. Primary course: the file is usable. Alternative: fatal problems, DataValidationError, the
 * saga fails the dataset with them.
 */
export async function validateStep(deps: PipelineDeps, input: PipelineInput) {
  const dataset = await loadDataset(deps, input);
  const keys = runKeys(input);
  await enterStep(deps, input, 'VALIDATING');
  const split = chunksOf(input);
  const merged = split ? await mergedValidation(deps, input, split.chunks) : undefined;
  const { key, versionId } = rawObject(input);
  const report = merged ?? (await validateDataset(await deps.objects.read(key, versionId), { schema: dataset.schema }));
  await deps.objects.put(keys.validation, JSON.stringify(report), 'application/json');
  assertValid(report);
  // Merged chunk partials read with Plan's schema, whose ranges are resolved already.
  const schema = merged ? report.schema! : await schemaWithRanges(deps, input.tenant, report.schema!);
  await deps.objects.put(keys.schema, JSON.stringify(schema), 'application/json');
  return { rows: report.counts.rows, validRows: report.counts.validRows, inTimeOrder: report.outOfOrderRows === 0, ...(split && !merged ? { wholeFile: true } : {}) };
}

/**
 * Preprocess: sort, drop duplicates, resample to the interval, impute short gaps; stream to the
 * run's processed file. A split file's chunks were preprocessed by the Split step: their parts are
 * joined, when the file is in time order and every chunk could read its halo. Each chunk sorts
 * only the rows it reads, so for a split file with rows out of order the whole file is streamed
 * here instead, sorted as a small file is (and so when a halo edge fell inside a quoted field).
 */
export async function preprocessStep(deps: PipelineDeps, input: PipelineInput) {
  const { inTimeOrder } = validated(input);
  const schema = await schemaOf(deps, input);
  const keys = runKeys(input);
  await enterStep(deps, input, 'PREPROCESSING');
  const split = chunksOf(input);
  const merged = split && inTimeOrder ? await mergedPreprocess(deps, input, split.chunks, keys.processed) : undefined;
  const result = merged ?? (await preprocessWhole(deps, input, schema, inTimeOrder, keys.processed));
  return { rowsOut: result.rowsOut, intervalSeconds: result.intervalSeconds };
}

async function preprocessWhole(deps: PipelineDeps, input: PipelineInput, schema: DatasetSchema, inTimeOrder: boolean, target: string) {
  const out = new PassThrough();
  const upload = deps.objects.write(target, 'text/csv', out);
  try {
    const { key, versionId } = rawObject(input);
    const result = await preprocessDataset(await deps.objects.read(key, versionId), out, pipelineRecipe(schema, inTimeOrder), { schema });
    if (!out.writableEnded) out.end();
    await upload;
    return { rowsOut: result.rowsOut, intervalSeconds: result.intervalSeconds ?? null };
  } catch (error) {
    out.destroy(error as Error);
    await upload.catch(() => undefined);
    throw error;
  }
}

export function summariseQuality(report: QualityReport) {
  return {
    errors: report.summary.errors,
    warnings: report.summary.warnings,
    infos: report.summary.infos,
    checks: [...new Set(report.findings.map((f) => f.check))],
  };
}

/**
 * Profile: the quality report of the data as the user sent it (duplicates, gaps, flatlines...), to
 * the run's reports. A split file's chunk profiles are merged; the run's work/ prefix is then no longer needed.
 */
export async function profileStep(deps: PipelineDeps, input: PipelineInput) {
  const schema = await schemaOf(deps, input);
  await enterStep(deps, input, 'PROFILING');
  const options = { schema, datasetId: input.datasetId, now: deps.now };
  const split = chunksOf(input);
  const { key, versionId } = rawObject(input);
  const report = split ? await mergedProfile(deps, input, split.chunks, options) : await profileDataset(await deps.objects.read(key, versionId), options);
  await deps.objects.put(runKeys(input).quality, JSON.stringify(report), 'application/json');
  if (wasSplit(input)) await deps.objects.removePrefix(datasetKeys(input.tenant, input.datasetId).work(input.runId).prefix);
  return { verdict: report.summary.verdict, ...summariseQuality(report) };
}

/**
 * Publish: in one conditional write, while this run is still the dataset's latest, the dataset is
 * READY with this run's outputs (schema, counts, quality summary, processed file) as its current
 * ones; the outputs of the run it replaces are then removed, and `data.processed` tells the other
 * contexts. A run that a newer one took over stops here, its outputs removed by its compensations.
 */
export async function publishStep(deps: PipelineDeps, input: PipelineInput) {
  const schema = await schemaOf(deps, input);
  const counts = validated(input);
  const rows = { raw: counts.rows, valid: counts.validRows, processed: preprocessOutput.parse(input.steps?.Preprocess?.output).rowsOut };
  const quality = profileOutput.parse(input.steps?.Profile?.output);
  const processedKey = runKeys(input).processed;
  const replaced = (await loadDataset(deps, input)).publishedRunId;
  const changes = { status: 'READY' as const, schema, rows, quality, processedKey, publishedRunId: input.runId };
  assertCurrent(await deps.datasets.update(input.tenant, input.datasetId, changes, { runId: input.runId }), input);
  if (replaced && replaced !== input.runId) await deps.objects.removePrefix(datasetKeys(input.tenant, input.datasetId).run(replaced).prefix);
  await deps.events.publish(detailTypes.dataProcessed, { tenant: input.tenant, datasetId: input.datasetId, runId: input.runId, schema, processedKey, ...correlationOf(input) });
  return { published: true };
}

const undoInput = z.object({ step: z.enum(['Split', 'Validate', 'Preprocess', 'Profile']), input: pipelineInput });

/**
 * Compensations: remove what a step wrote, under this run's own keys only (idempotent: removing
 * twice is fine). The dataset record is left alone: a run changes it only at Publish, and the
 * outputs of a run the dataset publishes are never removed (Publish committed them).
 */
export async function undoStep(deps: PipelineDeps, event: unknown) {
  const { step, input } = undoInput.parse(event);
  if (step === 'Split') {
    await deps.objects.removePrefix(datasetKeys(input.tenant, input.datasetId).work(input.runId).prefix);
    return { undone: step };
  }
  if ((await deps.datasets.get(input.tenant, input.datasetId))?.publishedRunId === input.runId) return { undone: step, kept: 'published by this run' };
  const keys = runKeys(input);
  const written = { Validate: [keys.validation, keys.schema], Preprocess: [keys.processed], Profile: [keys.quality] }[step];
  await deps.objects.remove(written);
  return { undone: step };
}

/** The run's correlation id, for the events it publishes. */
const correlationOf = (input: PipelineInput) => (input.correlationId ? { correlationId: input.correlationId } : {});

const failureInput = pipelineInput.extend({
  failedStep: z.string(),
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});
export type FailureInput = z.infer<typeof failureInput>;

/**
 * The words a person sees: our typed errors' messages (validation findings, a missing file...);
 * anything else is summarised, and its detail goes to the log only (see failDatasetPipeline).
 */
export function causeOf(failedStep: string, error: TaskFailure | undefined): string {
  // A Distributed Map reports a failed item by this error alone; the item's own error is in its child execution.
  if (error?.Error === 'States.ExceedToleratedFailureThreshold') return 'Processing a chunk of the file failed; the Split map run of this execution shows which chunk and why.';
  if (timedOut(error)) return `The ${failedStep} step ran out of time; split the file into smaller uploads, or re-run it (POST /datasets/{id}/runs).`;
  return userFacingMessage(error) ?? `An internal error (${error?.Error ?? 'unknown'}) stopped the ${failedStep} step; re-run it (POST /datasets/{id}/runs), or report the run id.`;
}

/**
 * Marks the dataset FAILED with the step and the cause, and publishes `pipeline.failed`; nothing
 * when a newer run took the dataset over (its record is the newer run's), or when this run had
 * published already (only telling the other contexts failed: the dataset is READY).
 */
export async function failPipeline(deps: PipelineDeps, event: unknown) {
  const input = failureInput.parse(event);
  const failure = { step: input.failedStep, cause: causeOf(input.failedStep, input.error), at: (deps.now?.() ?? new Date()).toISOString() };
  // What the person sees, and what the log keeps (the internals the cause leaves out).
  const report = { ...failure, datasetId: input.datasetId, runId: input.runId, detail: failureDetail(input.error) };
  if ((await deps.datasets.get(input.tenant, input.datasetId))?.publishedRunId === input.runId) return { ...report, recorded: false };
  const recorded = await deps.datasets.update(input.tenant, input.datasetId, { status: 'FAILED', failure }, { runId: input.runId });
  if (recorded) await deps.events.publish(detailTypes.pipelineFailed, { tenant: input.tenant, datasetId: input.datasetId, runId: input.runId, ...failure, ...correlationOf(input) });
  return { ...report, recorded };
}
