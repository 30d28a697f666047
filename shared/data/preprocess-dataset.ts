/**
 * Preprocessing: the recipe's steps as a streaming chain, from a byte source to CSV on a
 * Writable (the pipeline step) or to records (POST /data/preprocess on inline data).
 * Scaling without given parameters needs them before the first row is written, so it reads
 * the input twice: the input must then be a factory that opens the source again.
 *
 * A large file can be preprocessed in chunks (in parallel) whose outputs, concatenated in order,
 * are the whole file's output: see PreprocessOptions.ownLines and OwnedPart.
 */
import type { Writable } from 'node:stream';
import { openInput, type DataInput } from './byte-source.js';
import type { DatasetSchema } from './dataset-schema.js';
import { DataValidationError } from './errors.js';
import { CsvByteWriter } from './csv-writer.js';
import { csvField } from './csv-field.js';
import { PreprocessRecipe, type PreprocessRecipeInput, type PreprocessResult, type ScaleParams } from './preprocess-recipe.js';
import {
  CleanStage,
  COUNT_DROPPED,
  COUNT_EMPTY_BUCKETS,
  COUNT_BUCKETS_REFUSED,
  COUNT_GAPS_LEFT,
  COUNT_KINDS,
  COUNT_IMPUTED,
  DedupeStage,
  ImputeStage,
  ReorderStage,
  ResampleStage,
  ScaleFitSink,
  ScaleStage,
  SlotToRow,
  WindowStage,
  type CountKind,
  type CountLedger,
  type RowSink,
  type SlotSink,
} from './preprocess-stages.js';
import { openTable, type TableLayout } from './table-reader.js';
import { formatTimestamp } from './timestamp.js';

export interface PreprocessOptions {
  /** The declared schema; inferred when absent. Chunks of one file must all get the same (the whole file's) schema. */
  schema?: DatasetSchema;
  maxLineBytes?: number;
  /**
   * Preprocess one chunk of a larger file: the source is a halo (the header, some rows before the
   * chunk, the chunk's rows, some rows after it) and the chunk's own rows are its lines from..to-1
   * (1-based as the table reader counts them, the header being line 1; `to` Infinity for the last
   * chunk). Every row goes through the steps but only the output rows the chunk owns are written,
   * and the counts of the result are those of the owned part: see OwnedPart for what is exact.
   */
  ownLines?: { from: number; to: number };
  /** Write the CSV header line (default true; false for the chunks after the first). */
  header?: boolean;
}

/** Options of preprocessToRecords: the records are held in memory, so their size is capped. */
export interface RecordOptions extends PreprocessOptions {
  /** About the most bytes the records may take as JSON; beyond, OUTPUT_TOO_LARGE (422). */
  maxOutputBytes?: number;
}

/** Where output rows go: told the header first, then rows; flush() is awaited between input batches. */
interface OutputSink extends RowSink, SlotSink {
  start(columns: readonly string[], sensors: number): void;
  flush(): Promise<void>;
  finish(): Promise<void>;
  /** pushSlot that also returns how many sensor values of the row are missing (when the sink sees that anyway). */
  pushSlotCounting?(t: number, data: Float64Array, base: number): number;
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
  /** An output that counts the missing values as it writes them, saving a pass over the row. */
  private readonly counting: OutputSink | undefined;
  constructor(
    private readonly next: RowSink | OutputSink,
    private readonly sensors: number,
  ) {
    this.slotNext = 'pushSlot' in next ? next : undefined;
    this.counting = 'pushSlotCounting' in next && next.pushSlotCounting ? next : undefined;
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
    const counting = this.counting;
    if (counting?.pushSlotCounting) {
      if (this.rows++ === 0) this.first = t;
      this.last = t;
      this.missing += counting.pushSlotCounting(t, data, base);
      return;
    }
    if (!this.slotNext) throw new Error('rows handed on in place need an output that takes them in place');
    this.count(t, data, base);
    this.slotNext.pushSlot(t, data, base);
  }
  end(): void {
    this.next.end();
  }
}

/**
 * The part of the output a chunk owns, when a large file is preprocessed in chunks ("ghost cells").
 * The chunk's source is a halo: the header, some rows before the chunk, its own rows (lines
 * from..to-1), some rows after it. Every row goes through the steps, so sorting, duplicates,
 * resampling buckets (epoch-aligned) and imputation see the neighbours, but only output rows at
 * emitFrom <= t < emitTo are written: emitFrom is the output time (the bucket start when
 * resampling, else the row's time) of the first row with a valid time at a line >= from, emitTo
 * that of the first such row at a line >= to. Rows handed on before emitFrom is known are dropped;
 * until emitTo is known nothing is dropped at the end.
 *
 * Why the chunks' outputs concatenate to the whole file's, for rows in time order: the row that
 * sets emitTo of chunk k sets emitFrom of chunk k+1, so the owned ranges tile the time axis and
 * every output row is written by exactly one chunk, in order. A chunk computes an owned row as
 * the whole file does when its halo holds all the row depends on: the rows of its bucket (a
 * bucket is closed only when a row of a later bucket arrives, so a bucket straddling a boundary is
 * written by the later chunk, which needs the bucket's rows before the boundary), the earlier rows
 * with its timestamp (duplicates are compared with earlier rows only), and the known values
 * imputation fills from, at most maxGapRows + 1 output rows either side (imputation holds a row
 * back by at most that many rows). Given such halos the two chunks at a boundary also hand rows on
 * at the same moments, so rows of equal time on both sides of a boundary (without resampling) are
 * split between them the same way. Empty buckets and gaps between one chunk's last row and the
 * next chunk's first are written by the earlier chunk, whose halo after holds the next timed row.
 *
 * Not exact: rows out of time order across a boundary (each chunk sorts only its halo; the
 * pipeline then preprocesses the whole file instead), halos shorter than the above (a run of
 * missing values whose known ends lie outside the halo stays missing), window features (a window needs `window` rows before), scaling fitted per chunk.
 *
 * Counts: rowsIn, droppedInvalidTime and reordered count the own lines; rowsOut, missingOut and
 * timeRange the rows written; droppedDuplicates, emptyBuckets, gapsLeft and imputed are noted by
 * the stages with the output time they belong to (a dropped row: its own bucket) and counted when
 * that time is owned. A count at the latest output time read waits for a later one (or the end),
 * as emitTo may still turn out to be that time. For in-order input with the halos above, every
 * count summed over the chunks equals the whole file's (reordered is then 0 everywhere).
 */
class OwnedPart implements RowSink, SlotSink, CountLedger {
  private emitFrom: number | undefined;
  private emitTo: number | undefined;
  /** The latest output time of the rows read so far. */
  private horizon = -Infinity;
  /** Counts noted, by kind, for owned times. */
  readonly counts = new Float64Array(COUNT_KINDS);
  /** Counts not yet decided (all at the horizon for in-order input), by output time. */
  private readonly pending = new Map<number, Float64Array>();
  private readonly slotNext: SlotSink;

  constructor(
    private readonly next: TallyStage,
    private readonly fromLine: number,
    private readonly toLine: number,
    private readonly intervalMs: number | undefined,
  ) {
    this.slotNext = next;
  }

  /** The output time a row at time t ends up at. The same arithmetic as the resampling stages. */
  private outTime(t: number): number {
    return this.intervalMs === undefined ? t : Math.floor(t / this.intervalMs) * this.intervalMs;
  }

  /** A row with a valid time t is read at `line`, before it goes into the steps. */
  read(line: number, t: number): void {
    const o = this.outTime(t);
    if (this.emitFrom === undefined && line >= this.fromLine) this.emitFrom = o;
    if (this.emitTo === undefined && line >= this.toLine) this.emitTo = o;
    if (o > this.horizon) this.horizon = o;
    if (this.pending.size > 0) this.settle(false);
  }

  /** 1 owned, -1 not, 0 not known yet. */
  private decide(o: number, final: boolean): number {
    if (this.emitFrom !== undefined && o < this.emitFrom) return -1;
    // emitTo is set by a row at a line >= to >= from, so emitFrom is set too.
    if (this.emitTo !== undefined) return o < this.emitTo ? 1 : -1;
    // In time order, emitFrom and emitTo are yet to come at or after the horizon.
    if (final || o < this.horizon) return this.emitFrom !== undefined ? 1 : -1;
    return 0;
  }

  note(kind: CountKind, t: number, n: number): void {
    const o = kind === COUNT_DROPPED ? this.outTime(t) : t;
    const d = this.decide(o, false);
    if (d > 0) this.counts[kind] += n;
    else if (d === 0) {
      let p = this.pending.get(o);
      if (!p) this.pending.set(o, (p = new Float64Array(COUNT_KINDS)));
      p[kind] += n;
    }
  }

  private settle(final: boolean): void {
    for (const [o, p] of this.pending) {
      const d = this.decide(o, final);
      if (d === 0) continue;
      if (d > 0) for (let k = 0; k < COUNT_KINDS; k++) this.counts[k] += p[k];
      this.pending.delete(o);
    }
  }

  private owns(t: number): boolean {
    return this.emitFrom !== undefined && t >= this.emitFrom && (this.emitTo === undefined || t < this.emitTo);
  }

  push(t: number, row: Float64Array): void {
    if (this.owns(t)) this.next.push(t, row);
  }

  pushSlot(t: number, data: Float64Array, base: number): void {
    if (this.owns(t)) this.slotNext.pushSlot(t, data, base);
  }

  end(): void {
    this.settle(true);
    this.next.end();
  }
}

class CsvSink implements OutputSink {
  private readonly w: CsvByteWriter;
  private width = 0;
  private sensors = 0;
  constructor(
    out: Writable,
    private readonly digits: number,
    private readonly header: boolean,
  ) {
    this.w = new CsvByteWriter(out);
  }
  start(columns: readonly string[], sensors: number): void {
    this.width = columns.length - 1;
    this.sensors = sensors;
    if (this.header) this.w.text(`${columns.map((c) => csvField(c)).join(',')}\n`);
  }
  push(t: number, row: Float64Array): void {
    this.pushSlot(t, row, 0);
  }
  pushSlot(t: number, data: Float64Array, base: number): void {
    this.w.row(t, data, base, this.width, this.digits);
  }
  pushSlotCounting(t: number, data: Float64Array, base: number): number {
    const missing = this.w.row(t, data, base, this.width, this.digits);
    // The values after the sensors (the label, on the fused path) are not counted.
    let after = 0;
    for (let i = this.sensors; i < this.width; i++) if (data[base + i] !== data[base + i]) after++;
    return missing - after;
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
  private bytes = 0;
  private keyBytes = 0;
  constructor(private readonly maxBytes = Infinity) {}
  start(columns: readonly string[]): void {
    this.columns = columns;
    // Each record repeats the column names: "name":, and commas and braces.
    this.keyBytes = columns.reduce((n, c) => n + JSON.stringify(c).length + 2, 2);
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
    if (this.maxBytes !== Infinity) this.count(r);
    this.records.push(r);
  }
  /** Adds the record's JSON size (values at most 24 characters: 17 digits, sign, point, exponent). */
  private count(r: PreprocessedRecord): void {
    this.bytes += this.keyBytes + 26;
    for (let i = 1; i < this.columns.length; i++) this.bytes += r[this.columns[i]] === null ? 4 : 24;
    if (this.bytes > this.maxBytes)
      throw DataValidationError.of(
        'OUTPUT_TOO_LARGE',
        `The processed records would take more than ${this.maxBytes} bytes (over ${this.records.length} rows): resample to a coarser interval, lower resample.maxEmptyBuckets, or send less data.`,
      );
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
  const own = options.ownLines ? new OwnedPart(tally, options.ownLines.from, options.ownLines.to, intervalSeconds !== undefined ? intervalSeconds * 1000 : undefined) : undefined;
  const head = own ?? tally;
  const slotTally = direct ? head : undefined;
  let chain: RowSink = head;
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
  // A chunk's own rows: those read at lines from..to-1 (see OwnedPart).
  let ownRows = 0;
  let ownReordered = 0;
  if (own) {
    for (const stage of [dedupe, resample, impute]) if (stage) stage.ledger = own;
    const { from, to } = options.ownLines as { from: number; to: number };
    let latest = -Infinity;
    for await (const b of table.batches()) {
      for (let k = 0; k < b.count; k++) {
        const line = b.line[k];
        const mine = line >= from && line < to;
        if (mine) ownRows++;
        const t = b.time[k];
        if (t !== t) {
          if (mine) droppedInvalidTime++;
          continue;
        }
        // As ReorderStage counts: a row earlier than one before it.
        if (t >= latest) latest = t;
        else if (mine) ownReordered++;
        own.read(line, t);
        if (reorder) reorder.pushColumns(t, b.values, b.label, k);
        else {
          for (let j = 0; j < sensors; j++) row[j] = b.values[j][k];
          if (b.label) row[sensors] = b.label[k];
          chain.push(t, row);
        }
      }
      await sink.flush();
    }
  } else {
    for await (const b of table.batches()) {
      const { time, values, label } = b;
      for (let k = 0; k < b.count; k++) {
        const t = time[k];
        if (t !== t) {
          droppedInvalidTime++;
          continue;
        }
        // Sorting copies the row into its pool straight from the columns; otherwise through `row`.
        if (reorder) reorder.pushColumns(t, values, label, k);
        else {
          for (let j = 0; j < sensors; j++) row[j] = values[j][k];
          if (label) row[sensors] = label[k];
          chain.push(t, row);
        }
      }
      await sink.flush();
    }
  }
  chain.end();
  await sink.finish();
  const owned = (kind: CountKind, all: number | undefined) => (all === undefined ? 0 : own ? own.counts[kind] : all);

  return {
    layout: table.layout,
    fit,
    result: {
      columns,
      rowsIn: own ? ownRows : table.counts.rows,
      rowsOut: tally.rows,
      droppedInvalidTime,
      droppedDuplicates: owned(COUNT_DROPPED, dedupe?.dropped),
      reordered: reorder ? (own ? ownReordered : reorder.reordered) : 0,
      emptyBuckets: owned(COUNT_EMPTY_BUCKETS, resample?.emptyBuckets),
      gapsLeft: owned(COUNT_GAPS_LEFT, resample?.gapsLeft),
      emptyBucketsRefused: owned(COUNT_BUCKETS_REFUSED, resample?.bucketsRefused),
      imputed: owned(COUNT_IMPUTED, impute?.imputed),
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
  if (options.ownLines) {
    const { from, to } = options.ownLines;
    if (!(from >= 1 && to >= from)) throw new RangeError(`ownLines must have 1 <= from <= to (got from ${from}, to ${to}).`);
    if (recipe.scale && !recipe.scale.params)
      throw DataValidationError.of('INVALID_RECIPE', 'A chunk cannot fit scale parameters (they would be the chunk\'s, not the file\'s): give scale.params.');
  }
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
  return run(input, recipe, options, (r) => new CsvSink(out, r.significantDigits, options.header ?? true));
}

/** Applies the recipe to inline data (e.g. sourceFromRecords or sourceFromText) and returns the rows as records. */
export async function preprocessToRecords(input: DataInput, recipe: PreprocessRecipeInput, options: RecordOptions = {}): Promise<{ result: PreprocessResult; records: PreprocessedRecord[] }> {
  const sink = new RecordSink(options.maxOutputBytes);
  const result = await run(input, recipe, options, () => sink);
  return { result, records: sink.records };
}
