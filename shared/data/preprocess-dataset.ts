/**
 * Preprocessing: the recipe's steps as a streaming chain, from a byte source to CSV on a
 * Writable (the pipeline step) or to records (POST /data/preprocess on inline data).
 * Scaling without given parameters needs them before the first row is written, so it reads
 * the input twice: the input must then be a factory that opens the source again.
 */
import type { Writable } from 'node:stream';
import { openInput, type DataInput } from './byte-source.js';
import type { DatasetSchema } from './dataset-schema.js';
import { DataValidationError } from './errors.js';
import { CsvByteWriter } from './csv-writer.js';
import { csvField } from './csv-field.js';
import { PreprocessRecipe, type PreprocessRecipeInput, type PreprocessResult, type ScaleParams } from './preprocess-recipe.js';
import { CleanStage, DedupeStage, ImputeStage, ReorderStage, ResampleStage, ScaleFitSink, ScaleStage, SlotToRow, WindowStage, type RowSink, type SlotSink } from './preprocess-stages.js';
import { openTable, type TableLayout } from './table-reader.js';
import { formatTimestamp } from './timestamp.js';

export interface PreprocessOptions {
  /** The declared schema; inferred when absent. */
  schema?: DatasetSchema;
  maxLineBytes?: number;
}

/** Where output rows go: told the header first, then rows; flush() is awaited between input batches. */
interface OutputSink extends RowSink, SlotSink {
  start(columns: readonly string[], sensors: number): void;
  flush(): Promise<void>;
  finish(): Promise<void>;
}

/**
 * Counts rows and missing values on their way to the output, for rows handed on by value (push)
 * or in place (pushSlot, the fused path, whose next stage is the output itself).
 */
class TallyStage implements RowSink, SlotSink {
  rows = 0;
  missing = 0;
  first = Number.NaN;
  last = Number.NaN;
  private readonly slotNext: SlotSink | undefined;
  constructor(
    private readonly next: RowSink | OutputSink,
    private readonly sensors: number,
  ) {
    this.slotNext = 'pushSlot' in next ? next : undefined;
  }
  private count(t: number, data: Float64Array, base: number): void {
    if (this.rows++ === 0) this.first = t;
    this.last = t;
    for (let i = 0; i < this.sensors; i++) if (data[base + i] !== data[base + i]) this.missing++;
  }
  push(t: number, row: Float64Array): void {
    this.count(t, row, 0);
    this.next.push(t, row);
  }
  pushSlot(t: number, data: Float64Array, base: number): void {
    if (!this.slotNext) throw new Error('rows handed on in place need an output that takes them in place');
    this.count(t, data, base);
    this.slotNext.pushSlot(t, data, base);
  }
  end(): void {
    this.next.end();
  }
}

class CsvSink implements OutputSink {
  private readonly w: CsvByteWriter;
  private width = 0;
  constructor(
    out: Writable,
    private readonly digits: number,
  ) {
    this.w = new CsvByteWriter(out);
  }
  start(columns: readonly string[]): void {
    this.width = columns.length - 1;
    this.w.text(`${columns.map((c) => csvField(c)).join(',')}\n`);
  }
  push(t: number, row: Float64Array): void {
    this.pushSlot(t, row, 0);
  }
  pushSlot(t: number, data: Float64Array, base: number): void {
    const w = this.w;
    w.timestamp(t);
    for (let i = 0; i < this.width; i++) w.field(data[base + i], this.digits);
    w.byte(10);
  }
  end(): void {}
  flush(): Promise<void> {
    return this.w.flush();
  }
  finish(): Promise<void> {
    return this.w.flush(true);
  }
}

export type PreprocessedRecord = Record<string, string | number | null>;

class RecordSink implements OutputSink {
  readonly records: PreprocessedRecord[] = [];
  private columns: readonly string[] = [];
  start(columns: readonly string[]): void {
    this.columns = columns;
  }
  push(t: number, row: Float64Array): void {
    this.pushSlot(t, row, 0);
  }
  pushSlot(t: number, data: Float64Array, base: number): void {
    const r: PreprocessedRecord = { [this.columns[0]]: formatTimestamp(t) };
    for (let i = 1; i < this.columns.length; i++) {
      const x = data[base + i - 1];
      r[this.columns[i]] = x === x ? x : null;
    }
    this.records.push(r);
  }
  end(): void {}
  async flush(): Promise<void> {}
  async finish(): Promise<void> {}
}

class NullSink implements OutputSink {
  start(): void {}
  push(): void {}
  pushSlot(): void {}
  end(): void {}
  async flush(): Promise<void> {}
  async finish(): Promise<void> {}
}

interface PassResult {
  layout: TableLayout;
  result: Omit<PreprocessResult, 'scale'>;
  fit?: ScaleFitSink;
}

async function runPass(input: DataInput, recipe: PreprocessRecipe, options: PreprocessOptions, sink: OutputSink, scale: ScaleParams | undefined, fitOnly: boolean): Promise<PassResult> {
  const table = await openTable(openInput(input), { schema: options.schema, maxLineBytes: options.maxLineBytes });
  const { schema } = table.layout;
  const names = schema.sensorColumns.map((c) => c.name);
  const sensors = names.length;
  const hasLabel = schema.labelColumn !== undefined;
  const width = sensors + (hasLabel ? 1 : 0);

  const intervalSeconds = recipe.resample ? (recipe.resample.intervalSeconds ?? schema.expectedIntervalSeconds) : undefined;
  if (recipe.resample && intervalSeconds === undefined)
    throw DataValidationError.of('INVALID_RECIPE', 'Resampling needs an interval: give resample.intervalSeconds or the schema expectedIntervalSeconds.');

  let columns = [schema.timestampColumn, ...names, ...(hasLabel ? [schema.labelColumn as string] : [])];
  const fit = fitOnly ? new ScaleFitSink(names) : undefined;
  const wf = fitOnly ? undefined : recipe.windowFeatures;
  const scaled = !fitOnly && scale !== undefined;
  // The common recipe (drop duplicates, resample, impute, written out as is) takes the fused
  // path: CleanStage hands rows in place to the tally and the output, with no copies between.
  const fused = recipe.dropDuplicates && recipe.resample !== undefined && intervalSeconds !== undefined && recipe.impute !== undefined;
  const direct = fused && !fit && !wf && !scaled;
  const tally = new TallyStage(direct ? sink : (fit ?? sink), sensors);
  const slotTally = direct ? tally : undefined;
  let chain: RowSink = tally;
  if (wf) {
    const wanted = wf.columns ?? names;
    const unknown = wanted.filter((c) => !names.includes(c));
    if (unknown.length > 0) throw DataValidationError.of('INVALID_RECIPE', `windowFeatures.columns names columns that are not sensors: ${unknown.map((u) => JSON.stringify(u)).join(', ')}.`);
    const idx = wanted.map((c) => names.indexOf(c));
    chain = new WindowStage(chain, width, idx, wf.window, wf.stats);
    columns = [...columns, ...wanted.flatMap((c) => wf.stats.map((s) => `${c}_${s}_${wf.window}`))];
  }
  if (scaled) chain = new ScaleStage(chain, width, names, scale);

  let dedupe: DedupeStage | CleanStage | undefined;
  let resample: ResampleStage | CleanStage | undefined;
  let impute: ImputeStage | CleanStage | undefined;
  let slotChain: SlotSink | undefined;
  if (fused && recipe.resample && intervalSeconds !== undefined && recipe.impute) {
    const clean = new CleanStage(slotTally ?? new SlotToRow(chain, width), width, sensors, intervalSeconds * 1000, recipe.resample.maxEmptyBuckets, recipe.impute.maxGapRows, recipe.impute.method);
    dedupe = resample = impute = clean;
    chain = clean;
    slotChain = clean;
  } else {
    impute = recipe.impute ? new ImputeStage(chain, width, sensors, recipe.impute.maxGapRows, recipe.impute.method) : undefined;
    if (impute) chain = impute;
    resample = intervalSeconds !== undefined && recipe.resample ? new ResampleStage(chain, width, sensors, intervalSeconds * 1000, recipe.resample.maxEmptyBuckets) : undefined;
    if (resample) chain = resample;
    dedupe = recipe.dropDuplicates ? new DedupeStage(chain, width) : undefined;
    if (dedupe) chain = dedupe;
  }
  const reorder = recipe.sort ? new ReorderStage(chain, width, recipe.reorderWindowRows, slotChain) : undefined;
  if (reorder) chain = reorder;

  sink.start(columns, sensors);
  const row = new Float64Array(width);
  let droppedInvalidTime = 0;
  for await (const b of table.batches()) {
    for (let k = 0; k < b.count; k++) {
      const t = b.time[k];
      if (t !== t) {
        droppedInvalidTime++;
        continue;
      }
      for (let j = 0; j < sensors; j++) row[j] = b.values[j][k];
      if (b.label) row[sensors] = b.label[k];
      chain.push(t, row);
    }
    await sink.flush();
  }
  chain.end();
  await sink.finish();

  return {
    layout: table.layout,
    fit,
    result: {
      columns,
      rowsIn: table.counts.rows,
      rowsOut: tally.rows,
      droppedInvalidTime,
      droppedDuplicates: dedupe?.dropped ?? 0,
      reordered: reorder?.reordered ?? 0,
      emptyBuckets: resample?.emptyBuckets ?? 0,
      gapsLeft: resample?.gapsLeft ?? 0,
      imputed: impute?.imputed ?? 0,
      missingOut: tally.missing,
      ...(intervalSeconds !== undefined ? { intervalSeconds } : {}),
      ...(tally.rows > 0 ? { timeRange: { start: formatTimestamp(tally.first), end: formatTimestamp(tally.last) } } : {}),
    },
  };
}

async function run(input: DataInput, recipeInput: PreprocessRecipeInput, options: PreprocessOptions, makeSink: (recipe: PreprocessRecipe) => OutputSink): Promise<PreprocessResult> {
  const parsed = PreprocessRecipe.safeParse(recipeInput);
  if (!parsed.success) throw DataValidationError.of('INVALID_RECIPE', `Invalid recipe: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const recipe = parsed.data;
  let params = recipe.scale?.params;
  if (recipe.scale && !params) {
    if (typeof input !== 'function')
      throw DataValidationError.of('INVALID_RECIPE', 'Fitting scale parameters reads the data twice: pass a source factory, or give scale.params.');
    const fitted = await runPass(input, recipe, options, new NullSink(), undefined, true);
    params = fitted.fit?.params(recipe.scale.method) ?? {};
  }
  const { result } = await runPass(input, recipe, options, makeSink(recipe), params, false);
  return { ...result, ...(recipe.scale && params ? { scale: { method: recipe.scale.method, params } } : {}) };
}

/** Applies the recipe and writes the processed dataset as CSV to `out` (not ended: the caller owns it). */
export async function preprocessDataset(input: DataInput, out: Writable, recipe: PreprocessRecipeInput, options: PreprocessOptions = {}): Promise<PreprocessResult> {
  return run(input, recipe, options, (r) => new CsvSink(out, r.significantDigits));
}

/** Applies the recipe to inline data (e.g. sourceFromRecords or sourceFromText) and returns the rows as records. */
export async function preprocessToRecords(input: DataInput, recipe: PreprocessRecipeInput, options: PreprocessOptions = {}): Promise<{ result: PreprocessResult; records: PreprocessedRecord[] }> {
  const sink = new RecordSink();
  const result = await run(input, recipe, options, () => sink);
  return { result, records: sink.records };
}
