/**
 * Large files in the dataset pipeline. Plan cuts a file over the split size into newline-aligned
 * byte ranges; the Split step (a Distributed Map) runs `chunkStep` on each, in its own function:
 * validation and profile partials of the chunk's own rows, and its preprocessed rows, computed
 * with a halo of neighbouring rows so that resampling, de-duplication and imputation across its
 * edges come out as they would for the whole file. Validate, Preprocess and Profile then fold the
 * partials in file order (memory bounded by one partial) and join the processed parts in S3.
 * Everything a chunk writes lives under the run's work/ prefix, written at the same keys on a
 * retry, and removed at the end of the run or by the Split compensation.
 */
import { PassThrough } from 'node:stream';
import { z } from 'zod';
import { NotFoundError } from '../../platform/errors.js';
import { sourceFromText } from '../byte-source.js';
import { chunkSource, haloOwnLines, planChunks } from '../chunk-plan.js';
import { DatasetSchema } from '../dataset-schema.js';
import { DataValidationError } from '../errors.js';
import { preprocessDataset } from '../preprocess-dataset.js';
import { PreprocessResult } from '../preprocess-recipe.js';
import { profilePartial, ProfileMerger, type ProfileOptions, type ProfilePartial } from '../profile-dataset.js';
import type { QualityReport } from '../quality-report.js';
import { validateDataset, validatePartial, ValidationMerger, type ValidationPartial } from '../validate-dataset.js';
import type { ValidationReport } from '../validation-report.js';
import { datasetKeys } from '../registry/dataset.js';
import { assertCurrent, pipelineRecipe, rawObject, schemaWithRanges, type PipelineDeps, type PipelineInput } from './context.js';

export interface ChunkingSettings {
  /** Files larger than this are split. */
  splitBytes: number;
  /** About this many bytes per chunk. */
  chunkBytes: number;
  /** Bytes of neighbouring rows preprocessing reads on each side of a chunk. */
  haloBytes: number;
  /** At most this many chunks (the chunk size grows instead): the list travels in the state, which Step Functions caps at 256 KiB. */
  maxChunks: number;
}

const byteRange = z.object({ start: z.number().int().nonnegative(), end: z.number().int().nonnegative() });
export const chunkRef = z.object({ index: z.number().int().nonnegative(), start: z.number().int().nonnegative(), end: z.number().int().nonnegative(), halo: byteRange });
export type ChunkRef = z.infer<typeof chunkRef>;

/** What every chunk needs to read its bytes the same way: the schema (read once, from the start of the file), the format and the header's bytes. */
export const chunkLayout = z.object({ schema: DatasetSchema, schemaSource: z.enum(['declared', 'inferred']), format: z.enum(['csv', 'jsonl']), header: byteRange.nullable() });
export type ChunkLayout = z.infer<typeof chunkLayout>;

/** Plan's result, in the state: the layout (with the schema, which can be wide) is in the run's work/ prefix instead. */
export const planOutput = z.object({
  chunked: z.boolean(),
  size: z.number().int().nonnegative(),
  reason: z.string(),
  chunks: z.array(chunkRef),
});
export type PlanOutput = z.infer<typeof planOutput>;

/** Whether Plan split the file (its chunks then wrote under the run's work/ prefix). */
export function wasSplit(input: PipelineInput): boolean {
  const output = input.steps?.Plan?.output;
  return output !== undefined && planOutput.parse(output).chunked;
}

/**
 * The chunks of this run when Plan split the file and Validate could use them, else undefined
 * (the steps then stream the whole file). Validate cannot when a cut fell inside a quoted field.
 */
export function chunksOf(input: PipelineInput): { chunks: ChunkRef[] } | undefined {
  const output = input.steps?.Plan?.output;
  if (output === undefined) return undefined;
  if ((input.steps?.Validate?.output as { wholeFile?: boolean } | undefined)?.wholeFile) return undefined;
  const plan = planOutput.parse(output);
  return plan.chunked ? { chunks: plan.chunks } : undefined;
}

const GZIP = [0x1f, 0x8b];
/** Bytes read from the start of a file to infer its schema when none was declared (the inference looks at the first rows). */
const SCHEMA_PROBE_BYTES = 1024 * 1024;

/** The schema of a file that declares none, from its first rows; undefined when they cannot be read as a table. */
async function inferSchema(read: (start: number, end: number) => Promise<Uint8Array>, size: number): Promise<DatasetSchema | undefined> {
  const head = Buffer.from(await read(0, Math.min(size, SCHEMA_PROBE_BYTES)));
  const lastNewline = head.lastIndexOf(0x0a);
  const text = (lastNewline >= 0 ? head.subarray(0, lastNewline + 1) : head).toString('utf8');
  const report = await validateDataset(sourceFromText(text));
  return report.fatalErrors.length === 0 ? report.schema : undefined;
}

/**
 * Plan: takes the dataset over for this run (unless a later run has it: this one then stops) and
 * decides how the file is processed. A file up to the split size, or gzip (which cannot be cut at
 * byte offsets), is streamed whole by each step; a larger one is cut into chunks for the
 * Distributed Map, whose layout goes to the run's work/ prefix.
 */
export async function planStep(deps: PipelineDeps, input: PipelineInput, settings: ChunkingSettings): Promise<PlanOutput> {
  const dataset = await deps.datasets.get(input.tenant, input.datasetId);
  if (!dataset) throw new NotFoundError(`No dataset "${input.datasetId}" for this upload.`);
  const { key, versionId } = rawObject(input);
  const run = {
    id: input.runId,
    startedAt: (deps.now?.() ?? new Date()).toISOString(),
    ...(input.eTag ? { objectETag: input.eTag } : {}),
    ...(versionId ? { objectVersion: versionId } : {}),
    ...(input.order ? { order: input.order } : {}),
    ...(input.correlationId ? { correlationId: input.correlationId } : {}),
  };
  assertCurrent(await deps.datasets.takeOver(input.tenant, input.datasetId, run, { status: 'VALIDATING' }), input);
  await deps.datasets.clear(input.tenant, input.datasetId, ['failure'], { runId: input.runId });
  const head = await deps.objects.head(key, versionId);
  if (!head) throw new NotFoundError(`The uploaded file ${key} is no longer there.`);
  const read = (start: number, end: number) => deps.objects.readRange(key, start, end, versionId);
  const single = (reason: string): PlanOutput => ({ chunked: false, size: head.size, reason, chunks: [] });
  if (head.size <= settings.splitBytes) return single(`${head.size} bytes: within the split size (${settings.splitBytes}), one function per step`);
  const magic = await read(0, 2);
  if (magic[0] === GZIP[0] && magic[1] === GZIP[1]) return single('gzip cannot be cut at byte offsets: one function per step streams it');
  const found = dataset.schema ?? (await inferSchema(read, head.size));
  if (!found) return single('the first rows do not read as a table: validating the whole file will say why');
  const schema = await schemaWithRanges(deps, input.tenant, found);

  const chunkBytes = Math.max(settings.chunkBytes, Math.ceil(head.size / settings.maxChunks));
  const plan = await planChunks({ size: head.size, chunkBytes, haloBytes: settings.haloBytes }, read);
  const layout: ChunkLayout = { schema, schemaSource: dataset.schema ? 'declared' : 'inferred', format: plan.format, header: plan.header };
  await deps.objects.put(datasetKeys(input.tenant, input.datasetId).work(input.runId).layout, JSON.stringify(layout), 'application/json');
  return {
    chunked: true,
    size: head.size,
    reason: `${head.size} bytes: over the split size (${settings.splitBytes}), ${plan.chunks.length} chunks of about ${chunkBytes} bytes`,
    chunks: plan.chunks,
  };
}

/** What each Distributed Map item gets (the saga's ItemSelector). */
export const chunkInput = z.object({
  tenant: z.string(),
  datasetId: z.string(),
  key: z.string(),
  versionId: z.string().nullish(),
  runId: z.string(),
  chunk: chunkRef,
});
export type ChunkInput = z.infer<typeof chunkInput>;

/**
 * One chunk: the validation partial of its own rows; unless they are fatally broken (then the
 * Validate step reports them, with lines counted in the whole file), the profile partial and the
 * preprocessed rows, read with the halo. Returns little: Step Functions keeps every item's output.
 */
export async function chunkStep(deps: PipelineDeps, input: ChunkInput): Promise<{ index: number; fatal: boolean }> {
  const { chunk } = input;
  const work = datasetKeys(input.tenant, input.datasetId).work(input.runId);
  const layout = chunkLayout.parse(await readJson(deps, work.layout));
  const read = (start: number, end: number) => deps.objects.readRange(input.key, start, end, input.versionId ?? undefined);
  const plan = { format: layout.format, header: layout.header, chunks: [chunk] };
  const options = { schema: layout.schema };

  const validation = await validatePartial(chunkSource(read, plan, chunk, 'own'), { ...options, schemaSource: layout.schemaSource, chunk: { index: chunk.index, format: layout.format } });
  await deps.objects.put(work.validation(chunk.index), JSON.stringify(validation), 'application/json');
  if (validation.fatalErrors.length > 0) return { index: chunk.index, fatal: true };

  const profile = await profilePartial(chunkSource(read, plan, chunk, 'own'), { ...options, datasetId: input.datasetId });
  await deps.objects.put(work.profile(chunk.index), JSON.stringify(profile), 'application/json');
  // Rows out of time order: the Preprocess step streams the whole file (see preprocessStep), so a part would go unused.
  if (validation.outOfOrderRows > 0) return { index: chunk.index, fatal: false };

  const ownLines = await haloOwnLines(read, plan, chunk, validation.counts.lines - validation.headerLines);
  const out = new PassThrough();
  const upload = deps.objects.write(work.processed(chunk.index), 'text/csv', out);
  try {
    const result = await preprocessDataset(chunkSource(read, plan, chunk, 'halo'), out, pipelineRecipe(layout.schema, validation.outOfOrderRows === 0), {
      ...options,
      ownLines,
      header: chunk.index === 0,
    });
    if (!out.writableEnded) out.end();
    await upload;
    await deps.objects.put(work.preprocess(chunk.index), JSON.stringify(result), 'application/json');
  } catch (error) {
    out.destroy(error as Error);
    await upload.catch(() => undefined);
    if (!(error instanceof DataValidationError)) throw error;
    // The own rows read well but the halo did not (a halo edge inside a quoted field): the
    // Preprocess step streams the whole file instead of joining parts.
    await deps.objects.remove([work.processed(chunk.index)]);
    await deps.objects.put(work.preprocess(chunk.index), JSON.stringify({ unusable: error.message }), 'application/json');
  }
  return { index: chunk.index, fatal: false };
}

async function readJson(deps: PipelineDeps, key: string): Promise<unknown> {
  const text = await deps.objects.getText(key);
  if (text === undefined) throw new Error(`${key} is missing: the Plan or Split step did not complete for this run.`);
  return JSON.parse(text) as unknown;
}

/**
 * The validation report of a split file: the chunks' partials folded in file order; undefined
 * when a chunk met a quoted field never closed, which is what a cut inside a quoted field holding
 * a line break looks like (the whole file must then be read, and says whether it really is one).
 */
export async function mergedValidation(deps: PipelineDeps, input: PipelineInput, chunks: readonly ChunkRef[]): Promise<ValidationReport | undefined> {
  const work = datasetKeys(input.tenant, input.datasetId).work(input.runId);
  const merger = new ValidationMerger();
  for (const chunk of chunks) {
    const partial = (await readJson(deps, work.validation(chunk.index))) as ValidationPartial;
    if (partial.fatalErrors.some((e) => e.code === 'UNCLOSED_QUOTE')) return undefined;
    merger.add(partial);
  }
  return merger.finish();
}

/**
 * The processed file of a split file: the chunks' parts joined in S3, and what preprocessing did,
 * summed; undefined when a chunk could not preprocess its halo (nothing is written then).
 */
export async function mergedPreprocess(deps: PipelineDeps, input: PipelineInput, chunks: readonly ChunkRef[], target: string): Promise<{ rowsOut: number; intervalSeconds: number | null } | undefined> {
  const work = datasetKeys(input.tenant, input.datasetId).work(input.runId);
  let rowsOut = 0;
  let intervalSeconds: number | null = null;
  const results: unknown[] = [];
  for (const chunk of chunks) results.push(await readJson(deps, work.preprocess(chunk.index)));
  if (results.some((r) => (r as { unusable?: string }).unusable !== undefined)) return undefined;
  for (const stored of results) {
    const result = PreprocessResult.parse(stored);
    rowsOut += result.rowsOut;
    intervalSeconds ??= result.intervalSeconds ?? null;
  }
  await deps.objects.concat(target, chunks.map((c) => work.processed(c.index)), 'text/csv');
  return { rowsOut, intervalSeconds };
}

/** The quality report of a split file: the chunks' profile partials folded in file order. */
export async function mergedProfile(deps: PipelineDeps, input: PipelineInput, chunks: readonly ChunkRef[], options: ProfileOptions): Promise<QualityReport> {
  const work = datasetKeys(input.tenant, input.datasetId).work(input.runId);
  const merger = new ProfileMerger(options);
  for (const chunk of chunks) merger.add((await readJson(deps, work.profile(chunk.index))) as ProfilePartial);
  return merger.finish();
}
