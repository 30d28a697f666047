/**
 * The streaming pass of the quality profile over a file or over one chunk of it (a Step Functions
 * Distributed Map profiles byte ranges of a large file in parallel, then merges): fixed-size
 * accumulators per column (moments, a quantile sketch, a downsampled series, run trackers, range
 * recorders) and what the merge needs to reconcile the chunk boundaries (first and last timed
 * rows, the first and the open run of identical values per column, line and row counts). The
 * result is plain JSON whose size does not grow with the rows; ProfileMerger (profile-dataset.ts)
 * folds the partials of consecutive chunks into the report.
 *
 * The pass works a batch at a time and a column at a time: the series decides which rows go to
 * which bucket once per batch (plan), then one tight loop per column updates everything with
 * local variables, and per-batch results (moments by Chan's formula, sketch inserts) are folded in.
 */
import type { ByteSource } from './byte-source.js';
import { CELL_INVALID, CELL_MISSING, CELL_OK } from './cells.js';
import type { DatasetSchema } from './dataset-schema.js';
import type { ProfileOptions } from './profile-dataset.js';
import { QuantileSketch, type SketchState } from './quantile-sketch.js';
import { RangeRecorder, type RangeState } from './range-recorder.js';
import { SeriesDownsampler, type SeriesState } from './series-downsampler.js';
import { openTable, type RowBatch } from './table-reader.js';

/** A run of identical values of one column (lines are the chunk's own). */
export interface RunState {
  value: number;
  length: number;
  fromLine: number;
  toLine: number;
  fromT: number | null;
  toT: number | null;
}

export interface ColumnPartial {
  valid: number;
  missing: number;
  invalid: number;
  mean: number;
  /** Sum of squared deviations from the mean. */
  m2: number;
  sketch: SketchState;
  missingAt: RangeState;
  invalidAt: RangeState;
  outOfRange: RangeState;
  /** Runs of at least flatlineMinRows closed inside the chunk, except the first run (head). */
  flat: RangeState;
  /** The chunk's first run when another run follows it (it may continue the previous chunk's last run). */
  head: RunState | null;
  /** The run still open at the end of the chunk (null when the column has no value in the chunk). */
  tail: RunState | null;
}

export interface TimedRow {
  /** 0-based data row of the chunk. */
  row: number;
  line: number;
  t: number;
}

/** The settings a partial depends on: partials merge only with the same ones. */
export interface PartialSettings {
  maxRanges: number;
  flatlineMinRows: number;
  gapIntervals: number;
  seriesCapacity: number;
}

export interface ProfilePartial {
  kind: 'telltale.profile-partial';
  version: 1;
  settings: PartialSettings;
  schema: DatasetSchema;
  format: 'csv' | 'jsonl';
  /** Lines of the source (table.counts.lines), header included. */
  lines: number;
  /** Header lines among them (1 for CSV, 0 for JSON Lines): global line = local + sum of (lines - headerLines) of the chunks before. */
  headerLines: number;
  rows: number;
  withTime: number;
  minT: number | null;
  maxT: number | null;
  firstTimed: TimedRow | null;
  lastTimed: TimedRow | null;
  /** Positive steps between consecutive timed rows of the chunk (ms). */
  steps: SketchState;
  dupes: RangeState;
  backwards: RangeState;
  gaps: RangeState;
  badTime: RangeState;
  columns: ColumnPartial[];
  /** The label column: moments and sketch (missing counts non-numeric labels too). */
  label: Omit<ColumnPartial, 'invalid' | 'missingAt' | 'invalidAt' | 'outOfRange' | 'flat' | 'head' | 'tail'> | null;
  /** Sensors then the label, per bucket of rows. */
  series: SeriesState;
}

export function partialSettings(options: ProfileOptions): PartialSettings {
  return {
    maxRanges: options.maxRanges ?? 20,
    flatlineMinRows: options.flatlineMinRows ?? 60,
    gapIntervals: options.gapIntervals ?? 3,
    seriesCapacity: Math.max(4, Math.round((options.seriesPoints ?? 1000) * 1.024)),
  };
}

const orNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

class ColumnAcc {
  valid = 0;
  missing = 0;
  invalid = 0;
  mean = 0;
  m2 = 0;
  readonly sketch = new QuantileSketch();
  readonly missingAt: RangeRecorder;
  readonly invalidAt: RangeRecorder;
  readonly outOfRange: RangeRecorder;
  readonly flat: RangeRecorder;
  runValue = Number.NaN;
  runLength = 0;
  runFromLine = 0;
  runToLine = 0;
  runFromT = Number.NaN;
  runToT = Number.NaN;
  head: RunState | null = null;
  headDone = false;
  constructor(maxRanges: number) {
    this.missingAt = new RangeRecorder(maxRanges);
    this.invalidAt = new RangeRecorder(maxRanges);
    this.outOfRange = new RangeRecorder(maxRanges);
    this.flat = new RangeRecorder(maxRanges);
  }

  /** Folds in a batch's count, mean and sum of squared deviations (Chan et al.). */
  absorb(n: number, mean: number, m2: number): void {
    if (n === 0) return;
    if (this.valid === 0) {
      this.valid = n;
      this.mean = mean;
      this.m2 = m2;
      return;
    }
    const total = this.valid + n;
    const d = mean - this.mean;
    this.mean += (d * n) / total;
    this.m2 += m2 + (d * d * this.valid * n) / total;
    this.valid = total;
  }

  run(): RunState {
    return { value: this.runValue, length: this.runLength, fromLine: this.runFromLine, toLine: this.runToLine, fromT: orNull(this.runFromT), toT: orNull(this.runToT) };
  }

  /** The current run ends: the first one is kept for the merge, later ones are recorded when long enough. */
  closeRun(flatMin: number): void {
    if (this.runLength === 0) return;
    if (!this.headDone) {
      this.head = this.run();
      this.headDone = true;
    } else if (this.runLength >= flatMin) this.flat.addRange(this.runFromLine, this.runToLine, this.runFromT, this.runToT, this.runLength);
  }
}

/** The pass's state; methods rather than closures, so that their optimised code serves every call. */
class PartialScanner {
  readonly cols: ColumnAcc[];
  readonly label: ColumnAcc | undefined;
  readonly lo: Float64Array;
  readonly hi: Float64Array;
  readonly series: SeriesDownsampler;
  readonly dupes: RangeRecorder;
  readonly backwards: RangeRecorder;
  readonly gaps: RangeRecorder;
  readonly badTime: RangeRecorder;
  readonly steps = new QuantileSketch();
  readonly gapMs: number;
  readonly flatMin: number;
  scratch = new Float64Array(4096);
  prevT = Number.NaN;
  prevLine = 0;
  prevRow = -1;
  withTime = 0;
  minT = Infinity;
  maxT = -Infinity;
  firstTimed: TimedRow | null = null;
  /** Data rows before the current batch. */
  rowBase = 0;

  constructor(
    schema: DatasetSchema,
    readonly settings: PartialSettings,
  ) {
    const { maxRanges } = settings;
    const sensors = schema.sensorColumns;
    this.cols = sensors.map(() => new ColumnAcc(maxRanges));
    this.label = schema.labelColumn !== undefined ? new ColumnAcc(maxRanges) : undefined;
    this.lo = Float64Array.from(sensors, (c) => c.expectedRange?.min ?? -Infinity);
    this.hi = Float64Array.from(sensors, (c) => c.expectedRange?.max ?? Infinity);
    this.series = new SeriesDownsampler(sensors.length + (this.label ? 1 : 0), settings.seriesCapacity);
    this.dupes = new RangeRecorder(maxRanges);
    this.backwards = new RangeRecorder(maxRanges);
    this.gaps = new RangeRecorder(maxRanges);
    this.badTime = new RangeRecorder(maxRanges);
    this.gapMs = (schema.expectedIntervalSeconds ?? Number.NaN) * 1000 * settings.gapIntervals;
    this.flatMin = settings.flatlineMinRows;
  }

  batch(b: RowBatch): void {
    if (this.scratch.length < b.count) this.scratch = new Float64Array(Math.max(b.count, 2 * this.scratch.length));
    const { cols, label, series } = this;
    let k0 = 0;
    while (k0 < b.count) {
      const k1 = series.plan(b.line, b.time, k0, b.count);
      if (k1 > k0) {
        this.scanTime(b, k0, k1);
        for (let j = 0; j < cols.length; j++) this.scanColumn(cols[j], j, b, k0, k1);
        if (label && b.label) this.scanLabel(label, b.label, k0, k1);
      }
      if (k1 < b.count) series.halve();
      k0 = k1;
    }
    this.rowBase += b.count;
  }

  /** Timestamps of rows [k0, k1): order, duplicates, gaps, steps. */
  scanTime(b: RowBatch, k0: number, k1: number): void {
    const time = b.time;
    const line = b.line;
    const buf = this.scratch;
    const rowBase = this.rowBase;
    const gapMs = this.gapMs;
    let nsteps = 0;
    let pt = this.prevT;
    let pl = this.prevLine;
    let pr = this.prevRow;
    let tMin = this.minT;
    let tMax = this.maxT;
    let timed = 0;
    for (let k = k0; k < k1; k++) {
      const t = time[k];
      if (t !== t) {
        this.badTime.add(rowBase + k, line[k], t);
        continue;
      }
      timed++;
      if (t < tMin) tMin = t;
      if (t > tMax) tMax = t;
      if (pt === pt) {
        const d = t - pt;
        if (d > 0) {
          buf[nsteps++] = d;
          if (d > gapMs) this.gaps.addRange(pl, line[k], pt, t, 1);
        } else if (d === 0) this.dupes.add(rowBase + k, line[k], t);
        else this.backwards.add(rowBase + k, line[k], t);
      } else this.firstTimed = { row: rowBase + k, line: line[k], t };
      pt = t;
      pl = line[k];
      pr = rowBase + k;
    }
    this.prevT = pt;
    this.prevLine = pl;
    this.prevRow = pr;
    this.minT = tMin;
    this.maxT = tMax;
    this.withTime += timed;
    this.steps.addMany(buf, nsteps);
  }

  /**
   * One sensor column over rows [k0, k1): counts, moments, series buckets and the sketch in one
   * loop, then out-of-range values (when a range is declared) and runs of identical values in
   * loops of their own (short loops keep their state in registers).
   */
  scanColumn(c: ColumnAcc, j: number, b: RowBatch, k0: number, k1: number): void {
    const vals = b.values[j];
    const st = b.status[j];
    const line = b.line;
    const time = b.time;
    const buf = this.scratch;
    const rowBase = this.rowBase;
    const { segEnd, segBase, min: sMin, max: sMax, sum: sSum, sumSq: sSq, n: sN } = this.series;
    // Most ranges have no missing or invalid cell: then no status test and no copy for the sketch.
    const statuses = st.subarray(k0, k1);
    const clean = statuses.indexOf(CELL_MISSING) === -1 && statuses.indexOf(CELL_INVALID) === -1;
    // Sums are of x - shift (shift: the mean so far, else the first value), for precision.
    let shift = c.valid > 0 ? c.mean : Number.NaN;
    if (shift !== shift)
      for (let k = k0; k < k1; k++)
        if (st[k] === CELL_OK) {
          shift = vals[k];
          break;
        }
    let s1 = 0;
    let s2 = 0;
    let nv = 0;
    // The current series bucket (segment of rows): min, max, sums of d and d^2, count.
    let seg = 0;
    let end = segEnd[0];
    let cell = segBase[0] + j;
    let mn = Infinity;
    let mx = -Infinity;
    let ds = 0;
    let dq = 0;
    let cnt = 0;
    let bMin = Infinity;
    let bMax = -Infinity;
    for (let k = k0; ; k++) {
      if (k === end) {
        if (cnt > 0) {
          if (mn < sMin[cell]) sMin[cell] = mn;
          if (mx > sMax[cell]) sMax[cell] = mx;
          sSum[cell] += cnt * shift + ds;
          sSq[cell] += dq + 2 * shift * ds + cnt * shift * shift;
          sN[cell] += cnt;
          if (mn < bMin) bMin = mn;
          if (mx > bMax) bMax = mx;
          s1 += ds;
          s2 += dq;
          nv += cnt;
        }
        if (k === k1) break;
        seg++;
        end = segEnd[seg];
        cell = segBase[seg] + j;
        mn = Infinity;
        mx = -Infinity;
        ds = 0;
        dq = 0;
        cnt = 0;
      }
      if (!clean) {
        const s = st[k];
        if (s !== CELL_OK) {
          if (s === CELL_MISSING) {
            c.missing++;
            c.missingAt.add(rowBase + k, line[k], time[k]);
          } else {
            c.invalid++;
            c.invalidAt.add(rowBase + k, line[k], time[k]);
          }
          continue;
        }
        buf[nv + cnt] = vals[k];
      }
      const x = vals[k];
      const d = x - shift;
      ds += d;
      dq += d * d;
      if (x < mn) mn = x;
      if (x > mx) mx = x;
      cnt++;
    }
    if (nv > 0) c.absorb(nv, shift + s1 / nv, Math.max(0, s2 - (s1 * s1) / nv));
    if (clean) c.sketch.addMany(vals.subarray(k0, k1), nv, bMin, bMax);
    else c.sketch.addMany(buf, nv, bMin, bMax);

    const low = this.lo[j];
    const high = this.hi[j];
    if (bMin < low || bMax > high)
      for (let k = k0; k < k1; k++) {
        const x = vals[k];
        // NaN (missing, invalid) compares false.
        if (x < low || x > high) c.outOfRange.add(rowBase + k, line[k], time[k]);
      }

    // Runs of identical values: where the current one started in this batch (-1: before), last seen.
    const flatMin = this.flatMin;
    let rv = c.runValue;
    let rlen = c.runLength;
    let startK = -1;
    let lastK = -1;
    let headDone = c.headDone;
    for (let k = k0; k < k1; k++) {
      const x = vals[k];
      if (x !== rv) {
        if (x !== x) continue; // missing or invalid: the run goes on
        // A run ends: only the first one and long ones are kept, so the rest costs nothing.
        if (rlen >= flatMin || !headDone) {
          this.endOfRun(c, line, time, rv, rlen, startK, lastK);
          headDone = c.headDone;
        }
        rv = x;
        rlen = 0;
        startK = k;
      }
      rlen++;
      lastK = k;
    }
    if (startK >= 0) {
      c.runFromLine = line[startK];
      c.runFromT = time[startK];
    }
    if (lastK >= 0) {
      c.runToLine = line[lastK];
      c.runToT = time[lastK];
    }
    c.runValue = rv;
    c.runLength = rlen;
  }

  /** Closes the column's current run (started at batch row startK, last seen at lastK; -1: in an earlier batch). */
  private endOfRun(c: ColumnAcc, line: Float64Array, time: Float64Array, value: number, length: number, startK: number, lastK: number): void {
    c.runValue = value;
    if (startK >= 0) {
      c.runFromLine = line[startK];
      c.runFromT = time[startK];
    }
    if (lastK >= 0) {
      c.runToLine = line[lastK];
      c.runToT = time[lastK];
    }
    c.runLength = length;
    c.closeRun(this.flatMin);
  }

  /** The label column: NaN is missing (or not a number). */
  scanLabel(c: ColumnAcc, lab: Float64Array, k0: number, k1: number): void {
    const series = this.series;
    const { segEnd, segBase, min: sMin, max: sMax, sum: sSum, sumSq: sSq, n: sN } = series;
    const j = this.cols.length;
    const buf = this.scratch;
    let shift = c.valid > 0 ? c.mean : Number.NaN;
    if (shift !== shift)
      for (let k = k0; k < k1; k++)
        if (lab[k] === lab[k]) {
          shift = lab[k];
          break;
        }
    let s1 = 0;
    let s2 = 0;
    let nv = 0;
    let missing = 0;
    for (let s = 0; s < series.segments; s++) {
      const cell = segBase[s] + j;
      const e = segEnd[s];
      let mn = Infinity;
      let mx = -Infinity;
      let su = 0;
      let sq = 0;
      let cnt = 0;
      for (let k = s === 0 ? k0 : segEnd[s - 1]; k < e; k++) {
        const x = lab[k];
        if (x !== x) {
          missing++;
          continue;
        }
        buf[nv++] = x;
        const d = x - shift;
        s1 += d;
        s2 += d * d;
        if (x < mn) mn = x;
        if (x > mx) mx = x;
        su += x;
        sq += x * x;
        cnt++;
      }
      if (cnt > 0) {
        if (mn < sMin[cell]) sMin[cell] = mn;
        if (mx > sMax[cell]) sMax[cell] = mx;
        sSum[cell] += su;
        sSq[cell] += sq;
        sN[cell] += cnt;
      }
    }
    c.missing += missing;
    if (nv > 0) c.absorb(nv, shift + s1 / nv, Math.max(0, s2 - (s1 * s1) / nv));
    c.sketch.addMany(buf, nv);
  }
}

const columnPartial = (c: ColumnAcc): ColumnPartial => ({
  valid: c.valid,
  missing: c.missing,
  invalid: c.invalid,
  mean: c.mean,
  m2: c.m2,
  sketch: c.sketch.toJSON(),
  missingAt: c.missingAt.toJSON(),
  invalidAt: c.invalidAt.toJSON(),
  outOfRange: c.outOfRange.toJSON(),
  flat: c.flat.toJSON(),
  head: c.head,
  tail: c.runLength > 0 ? c.run() : null,
});

/**
 * Profiles one source (a whole file, or a chunk: the CSV header line then the chunk's lines) in
 * one streaming pass. Throws DataValidationError when it cannot be read as a table at all.
 */
export async function profilePartial(source: ByteSource, options: ProfileOptions = {}): Promise<ProfilePartial> {
  const settings = partialSettings(options);
  const table = await openTable(source, { schema: options.schema, maxLineBytes: options.maxLineBytes });
  const { schema, format } = table.layout;
  const p = new PartialScanner(schema, settings);
  for await (const b of table.batches()) p.batch(b);
  const label = p.label;
  return {
    kind: 'telltale.profile-partial',
    version: 1,
    settings,
    schema,
    format,
    lines: table.counts.lines,
    headerLines: format === 'csv' ? 1 : 0,
    rows: table.counts.rows,
    withTime: p.withTime,
    minT: orNull(p.minT),
    maxT: orNull(p.maxT),
    firstTimed: p.firstTimed,
    lastTimed: p.firstTimed === null ? null : { row: p.prevRow, line: p.prevLine, t: p.prevT },
    steps: p.steps.toJSON(),
    dupes: p.dupes.toJSON(),
    backwards: p.backwards.toJSON(),
    gaps: p.gaps.toJSON(),
    badTime: p.badTime.toJSON(),
    columns: p.cols.map(columnPartial),
    label: label ? { valid: label.valid, missing: label.missing, mean: label.mean, m2: label.m2, sketch: label.sketch.toJSON() } : null,
    series: p.series.toJSON(),
  };
}
