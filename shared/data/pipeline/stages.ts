import { PassThrough } from 'node:stream';
import { z } from 'zod';
import { detailTypes } from '../../platform/events.js';
import { NotFoundError } from '../../platform/errors.js';
import { DatasetSchema } from '../dataset-schema.js';
import { preprocessDataset } from '../preprocess-dataset.js';
import { profileDataset } from '../profile-dataset.js';
import type { QualityReport } from '../quality-report.js';
import { assertValid, validateDataset } from '../validate-dataset.js';
import { datasetKeys, type Dataset } from '../registry/dataset.js';
import { chunksOf, mergedPreprocess, mergedProfile, mergedValidation, wasSplit } from './chunks.js';
import { pipelineInput, pipelineRecipe, schemaWithRanges, type PipelineDeps, type PipelineInput } from './context.js';

export { pipelineInput, type PipelineDeps, type PipelineInput };


const validateOutput = z.object({
  schema: DatasetSchema,
  rows: z.number(),
  validRows: z.number(),
  inTimeOrder: z.boolean().default(false),
  /** A split file whose chunks could not be used (a cut inside a quoted field): every step streams the whole file. */
  wholeFile: z.boolean().default(false),
});

async function loadDataset(deps: PipelineDeps, input: PipelineInput): Promise<Dataset> {
  const dataset = await deps.datasets.get(input.tenant, input.datasetId);
  if (!dataset) throw new NotFoundError(`No dataset "${input.datasetId}" for this upload.`);
  return dataset;
}

const validated = (input: PipelineInput) => validateOutput.parse(input.steps?.Validate?.output);
const schemaOf = (input: PipelineInput) => validated(input).schema;

/**
 * Validate: parse the raw file, check it against the declared schema (or infer one), write the
 * validation report (a split file's chunk partials, merged; the whole file read here when a cut
 * fell inside a quoted field, and then by every later step). Primary course: the file is usable,
 * the run is recorded on the dataset. Alternative: fatal problems, DataValidationError, the saga
 * fails the dataset with them.
 */
export async function validateStep(deps: PipelineDeps, input: PipelineInput) {
  const dataset = await loadDataset(deps, input);
  const keys = datasetKeys(input.tenant, input.datasetId);
  await deps.datasets.update(input.tenant, input.datasetId, { status: 'VALIDATING' }, { runId: input.runId });
  const split = chunksOf(input);
  const merged = split ? await mergedValidation(deps, input, split.chunks) : undefined;
  const report = merged ?? (await validateDataset(await deps.objects.read(input.key), { schema: dataset.schema }));
  await deps.objects.put(keys.validation, JSON.stringify(report), 'application/json');
  assertValid(report);
  const rows = { raw: report.counts.rows, valid: report.counts.validRows };
  await deps.datasets.update(input.tenant, input.datasetId, { rows }, { runId: input.runId });
  // Merged chunk partials read with Plan's schema, whose ranges are resolved already.
  const schema = merged ? report.schema! : await schemaWithRanges(deps, input.tenant, report.schema!);
  return { schema, rows: rows.raw, validRows: rows.valid, inTimeOrder: report.outOfOrderRows === 0, ...(split && !merged ? { wholeFile: true } : {}) };
}

/**
 * Preprocess: sort, drop duplicates, resample to the interval, impute short gaps; stream to
 * processed/. A split file's chunks were preprocessed by the Split step: their parts are joined,
 * when the file is in time order and every chunk could read its halo. Each chunk sorts only the
 * rows it reads, so for a split file with rows out of order the whole file is streamed here
 * instead, sorted as a small file is (and so when a halo edge fell inside a quoted field).
 */
export async function preprocessStep(deps: PipelineDeps, input: PipelineInput) {
  const { schema, inTimeOrder, rows, validRows } = validated(input);
  const keys = datasetKeys(input.tenant, input.datasetId);
  await deps.datasets.update(input.tenant, input.datasetId, { status: 'PREPROCESSING' }, { runId: input.runId });
  const split = chunksOf(input);
  const merged = split && inTimeOrder ? await mergedPreprocess(deps, input, split.chunks, keys.processed) : undefined;
  const result = merged ?? (await preprocessWhole(deps, input, schema, inTimeOrder, keys.processed));
  await deps.datasets.update(input.tenant, input.datasetId, { processedKey: keys.processed, rows: { raw: rows, valid: validRows, processed: result.rowsOut } }, { runId: input.runId });
  return { processedKey: keys.processed, rowsOut: result.rowsOut, intervalSeconds: result.intervalSeconds };
}

async function preprocessWhole(deps: PipelineDeps, input: PipelineInput, schema: DatasetSchema, inTimeOrder: boolean, target: string) {
  const out = new PassThrough();
  const upload = deps.objects.write(target, 'text/csv', out);
  try {
    const result = await preprocessDataset(await deps.objects.read(input.key), out, pipelineRecipe(schema, inTimeOrder), { schema });
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
 * reports/. A split file's chunk profiles are merged; the run's work/ prefix is then no longer needed.
 */
export async function profileStep(deps: PipelineDeps, input: PipelineInput) {
  const schema = schemaOf(input);
  const keys = datasetKeys(input.tenant, input.datasetId);
  await deps.datasets.update(input.tenant, input.datasetId, { status: 'PROFILING' }, { runId: input.runId });
  const options = { schema, datasetId: input.datasetId, now: deps.now };
  const split = chunksOf(input);
  const report = split ? await mergedProfile(deps, input, split.chunks, options) : await profileDataset(await deps.objects.read(input.key), options);
  await deps.objects.put(keys.quality, JSON.stringify(report), 'application/json');
  const quality = summariseQuality(report);
  await deps.datasets.update(input.tenant, input.datasetId, { quality }, { runId: input.runId });
  if (wasSplit(input)) await deps.objects.removePrefix(keys.work(input.runId).prefix);
  return { verdict: report.summary.verdict, ...quality };
}

/** Publish: the dataset is READY; `data.processed` tells the other contexts. */
export async function publishStep(deps: PipelineDeps, input: PipelineInput) {
  const schema = schemaOf(input);
  const current = await deps.datasets.update(input.tenant, input.datasetId, { status: 'READY', schema }, { runId: input.runId });
  if (!current) return { published: false, reason: 'a newer run owns the dataset' };
  await deps.events.publish(detailTypes.dataProcessed, { tenant: input.tenant, datasetId: input.datasetId, runId: input.runId, schema, processedKey: datasetKeys(input.tenant, input.datasetId).processed });
  return { published: true };
}

const undoInput = z.object({ step: z.enum(['Split', 'Validate', 'Preprocess', 'Profile']), input: pipelineInput });

/** Compensations: remove what a step wrote (idempotent: removing twice is fine), for this run only. */
export async function undoStep(deps: PipelineDeps, event: unknown) {
  const { step, input } = undoInput.parse(event);
  const keys = datasetKeys(input.tenant, input.datasetId);
  const guard = { runId: input.runId };
  if (step === 'Split') {
    await deps.objects.removePrefix(keys.work(input.runId).prefix);
  } else if (step === 'Validate') {
    await deps.objects.remove([keys.validation]);
    await deps.datasets.clear(input.tenant, input.datasetId, ['rows'], guard);
  } else if (step === 'Preprocess') {
    await deps.objects.remove([keys.processed]);
    await deps.datasets.clear(input.tenant, input.datasetId, ['processedKey'], guard);
    const counted = validateOutput.safeParse(input.steps?.Validate?.output);
    if (counted.success) await deps.datasets.update(input.tenant, input.datasetId, { rows: { raw: counted.data.rows, valid: counted.data.validRows } }, guard);
  } else {
    await deps.objects.remove([keys.quality]);
    await deps.datasets.clear(input.tenant, input.datasetId, ['quality'], guard);
  }
  return { undone: step };
}

const failureInput = pipelineInput.extend({
  failedStep: z.string(),
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});

/** The words a person sees: our error's message, not a stack trace. */
export function causeOf(error: { Error?: string; Cause?: string } | undefined): string {
  // A Distributed Map reports a failed item by this error alone; the item's own error is in its child execution.
  if (error?.Error === 'States.ExceedToleratedFailureThreshold') return 'Processing a chunk of the file failed; the Split map run of this execution shows which chunk and why.';
  if (!error?.Cause) return error?.Error ?? 'Unknown error';
  try {
    const parsed = JSON.parse(error.Cause) as { errorType?: string; errorMessage?: string };
    return parsed.errorMessage ?? parsed.errorType ?? error.Cause;
  } catch {
    return error.Cause.slice(0, 1000);
  }
}

/** Marks the dataset FAILED with the step and the cause, and publishes `pipeline.failed`. */
export async function failPipeline(deps: PipelineDeps, event: unknown) {
  const input = failureInput.parse(event);
  const failure = { step: input.failedStep, cause: causeOf(input.error), at: (deps.now?.() ?? new Date()).toISOString() };
  const current = await deps.datasets.update(input.tenant, input.datasetId, { status: 'FAILED', failure }, { runId: input.runId });
  if (current) await deps.events.publish(detailTypes.pipelineFailed, { tenant: input.tenant, datasetId: input.datasetId, runId: input.runId, ...failure });
  return failure;
}
