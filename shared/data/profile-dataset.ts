/**
 * Quality profile: one streaming pass with fixed-size accumulators per column (moments, a
 * quantile sketch, a downsampled series, run trackers), then checks that need the whole picture
 * (level shifts, operating modes) run on those summaries. Memory does not grow with the rows.
 *
 * The pass (profilePartial, profile-partial.ts) can run on chunks of a file in parallel; a
 * ProfileMerger folds the partials in file order into one report, reconciling what crosses the
 * chunk boundaries. profileDataset is the merge of a single partial: one code path.
 */
import type { ByteSource } from './byte-source.js';
import type { DatasetSchema } from './dataset-schema.js';
import { partialSettings, profilePartial, type ColumnPartial, type PartialSettings, type ProfilePartial, type RunState } from './profile-partial.js';
import type { ColumnProfile, DownsampledSeries, Finding, QualityCheck, QualityReport, Severity } from './quality-report.js';
import { QuantileSketch } from './quantile-sketch.js';
import { RangeRecorder } from './range-recorder.js';
import { SeriesDownsampler } from './series-downsampler.js';
import { isoOrNull } from './timestamp.js';

export { profilePartial, type ProfilePartial } from './profile-partial.js';

export interface ProfileOptions {
  schema?: DatasetSchema;
  datasetId?: string;
  maxLineBytes?: number;
  /** Fewer rows with a timestamp than this is an error (too little data to train). */
  minRowsToTrain?: number;
  /** A step longer than this many expected intervals is a gap. */
  gapIntervals?: number;
  /** A run of identical values at least this long is a flatline. */
  flatlineMinRows?: number;
  /** Ranges listed per finding. */
  maxRanges?: number;
  /** Points of the downsampled series (about; between half and all of it are used). */
  seriesPoints?: number;
  now?: () => Date;
}

const QUANTILES = [0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1];
const HISTOGRAM_BINS = 30;
const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);
const pct = (x: number) => `${(100 * x).toFixed(x < 0.01 ? 2 : 1)}%`;

/** Profiles a dataset file. Throws DataValidationError when the file cannot be read as a table at all. */
export async function profileDataset(source: ByteSource, options: ProfileOptions = {}): Promise<QualityReport> {
  const merger = new ProfileMerger(options);
  merger.add(await profilePartial(source, options));
  return merger.finish();
}

interface Run {
  value: number;
  length: number;
  fromLine: number;
  toLine: number;
  fromT: number;
  toT: number;
}

/** A column's merged state. */
class MergedColumn {
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
  /** The run of identical values still open at the end of the chunks merged so far. */
  open: Run | null = null;
  constructor(maxRanges: number) {
    this.missingAt = new RangeRecorder(maxRanges);
    this.invalidAt = new RangeRecorder(maxRanges);
    this.outOfRange = new RangeRecorder(maxRanges);
    this.flat = new RangeRecorder(maxRanges);
  }

  /** Exact merge of counts and moments (Chan et al.). */
  moments(p: { valid: number; missing: number; mean: number; m2: number }): void {
    this.missing += p.missing;
    if (p.valid === 0) return;
    if (this.valid === 0) {
      this.valid = p.valid;
      this.mean = p.mean;
      this.m2 = p.m2;
      return;
    }
    const n = this.valid + p.valid;
    const d = p.mean - this.mean;
    this.mean += (d * p.valid) / n;
    this.m2 += p.m2 + (d * d * this.valid * p.valid) / n;
    this.valid = n;
  }
}

const runOf = (r: RunState, lineOffset: number): Run => ({
  value: r.value,
  length: r.length,
  fromLine: r.fromLine + lineOffset,
  toLine: r.toLine + lineOffset,
  fromT: r.fromT ?? Number.NaN,
  toT: r.toT ?? Number.NaN,
});

/**
 * Folds profile partials of consecutive chunks of one file (added in file order, one at a time,
 * in bounded memory) into the quality report. At each boundary it shifts the chunk's rows and
 * lines, checks the step from the last timed row before to the first timed row after (duplicate,
 * backwards, gap, and the interval sketch), joins ranges of consecutive rows and runs of identical
 * values that continue across it (a run is a flatline when its whole length reaches
 * flatlineMinRows), merges moments exactly, sketches and the downsampled series. finish() then
 * runs the whole-series checks (level shifts, operating modes) on the merged summaries; call it
 * once, after the last add().
 *
 *   const merger = new ProfileMerger(options);
 *   for (const key of chunkKeys) merger.add(JSON.parse(await read(key)) as ProfilePartial);
 *   const report = merger.finish();
 */
export class ProfileMerger {
  private readonly settings: PartialSettings;
  private readonly minRows: number;
  private schema: DatasetSchema | undefined;
  private rows = 0;
  private lineOffset = 0;
  private withTime = 0;
  private minT = Infinity;
  private maxT = -Infinity;
  private prevT = Number.NaN;
  private prevLine = 0;
  private readonly steps = new QuantileSketch();
  /** Steps across boundaries, kept apart: a merged sketch samples new values, a fresh one keeps them all. */
  private readonly boundarySteps = new QuantileSketch();
  private readonly dupes: RangeRecorder;
  private readonly backwards: RangeRecorder;
  private readonly gaps: RangeRecorder;
  private readonly badTime: RangeRecorder;
  private cols: MergedColumn[] = [];
  private label: MergedColumn | undefined;
  private series: SeriesDownsampler | undefined;

  constructor(private readonly options: ProfileOptions = {}) {
    this.settings = partialSettings(options);
    this.minRows = options.minRowsToTrain ?? 1000;
    const max = this.settings.maxRanges;
    this.dupes = new RangeRecorder(max);
    this.backwards = new RangeRecorder(max);
    this.gaps = new RangeRecorder(max);
    this.badTime = new RangeRecorder(max);
  }

  /** Adds the partial of the next chunk of the file. */
  add(p: ProfilePartial): void {
    if (p.kind !== 'telltale.profile-partial' || p.version !== 1) throw new Error('not a profile partial (version 1)');
    const mine = JSON.stringify(this.settings);
    if (JSON.stringify(p.settings) !== mine) throw new Error(`profile partial computed with ${JSON.stringify(p.settings)}, the merge uses ${mine}`);
    const max = this.settings.maxRanges;
    if (this.schema === undefined) {
      this.schema = p.schema;
      this.cols = p.schema.sensorColumns.map(() => new MergedColumn(max));
      this.label = p.label ? new MergedColumn(max) : undefined;
      this.series = new SeriesDownsampler(p.series.columns, this.settings.seriesCapacity);
    } else if (JSON.stringify(p.schema) !== JSON.stringify(this.schema)) throw new Error('profile partials of different schemas cannot merge');
    const series = this.series as SeriesDownsampler;
    const rowOff = this.rows;
    const lineOff = this.lineOffset;
    const gapMs = (this.schema.expectedIntervalSeconds ?? Number.NaN) * 1000 * this.settings.gapIntervals;

    // Time: the step across the boundary, then the chunk's own events.
    this.withTime += p.withTime;
    if (p.minT !== null && p.minT < this.minT) this.minT = p.minT;
    if (p.maxT !== null && p.maxT > this.maxT) this.maxT = p.maxT;
    if (p.firstTimed !== null && this.prevT === this.prevT) {
      const { t } = p.firstTimed;
      const row = rowOff + p.firstTimed.row;
      const line = lineOff + p.firstTimed.line;
      const d = t - this.prevT;
      if (d === 0) this.dupes.add(row, line, t);
      else if (d < 0) this.backwards.add(row, line, t);
      else {
        this.boundarySteps.add(d);
        if (d > gapMs) this.gaps.addRange(this.prevLine, line, this.prevT, t, 1);
      }
    }
    if (p.lastTimed !== null) {
      this.prevT = p.lastTimed.t;
      this.prevLine = lineOff + p.lastTimed.line;
    }
    this.dupes.append(p.dupes, rowOff, lineOff);
    this.backwards.append(p.backwards, rowOff, lineOff);
    this.gaps.append(p.gaps, rowOff, lineOff);
    this.badTime.append(p.badTime, rowOff, lineOff);
    this.steps.mergeState(p.steps);

    p.columns.forEach((pc, j) => this.column(this.cols[j], pc, rowOff, lineOff));
    if (this.label && p.label) {
      this.label.moments(p.label);
      this.label.sketch.mergeState(p.label.sketch);
    }
    series.append(p.series, lineOff);

    this.rows += p.rows;
    this.lineOffset += p.lines - p.headerLines;
  }

  private column(c: MergedColumn, p: ColumnPartial, rowOff: number, lineOff: number): void {
    c.moments(p);
    c.invalid += p.invalid;
    c.sketch.mergeState(p.sketch);
    c.missingAt.append(p.missingAt, rowOff, lineOff);
    c.invalidAt.append(p.invalidAt, rowOff, lineOff);
    c.outOfRange.append(p.outOfRange, rowOff, lineOff);
    if (p.tail === null) return;
    // Runs: the chunk's first run may continue the open one; the chunk's closed runs follow it.
    const first = p.head ?? p.tail;
    if (c.open !== null && c.open.value === first.value) {
      c.open.length += first.length;
      c.open.toLine = first.toLine + lineOff;
      c.open.toT = first.toT ?? Number.NaN;
    } else {
      this.closeRun(c);
      c.open = runOf(first, lineOff);
    }
    if (p.head !== null) {
      this.closeRun(c);
      c.flat.append(p.flat, rowOff, lineOff);
      c.open = runOf(p.tail, lineOff);
    }
  }

  private closeRun(c: MergedColumn): void {
    const r = c.open;
    if (r !== null && r.length >= this.settings.flatlineMinRows) c.flat.addRange(r.fromLine, r.toLine, r.fromT, r.toT, r.length);
    c.open = null;
  }

  /** The report of everything added. */
  finish(): QualityReport {
    if (this.schema === undefined || this.series === undefined) throw new Error('no profile partial to merge');
    const { options, schema, series, rows, withTime } = this;
    const { maxRanges, flatlineMinRows: flatMin, gapIntervals } = this.settings;
    const minRows = this.minRows;
    const { dupes, backwards, gaps, badTime } = this;
    const sensors = schema.sensorColumns;
    const ns = sensors.length;
    const cols = this.cols;
    const label = this.label;
    for (const c of cols) this.closeRun(c);
    const steps = new QuantileSketch();
    steps.merge(this.steps);
    steps.merge(this.boundarySteps);
    const gapMs = (schema.expectedIntervalSeconds ?? Number.NaN) * 1000 * gapIntervals;
    const minT = this.minT;
    const maxT = this.maxT;

    const findings: Finding[] = [];
    const add = (check: QualityCheck, severity: Severity, message: string, rec: RangeRecorder | undefined, count: number, column?: string, details?: Record<string, number>) =>
      findings.push({ check, severity, ...(column !== undefined ? { column } : {}), count, message, ranges: rec?.ranges ?? [], rangesTruncated: rec?.truncated ?? false, ...(details ? { details } : {}) });

    if (withTime < minRows)
      add('insufficient-data', 'error', `Only ${withTime} rows have a timestamp; at least ${minRows} are needed to train a detector.`, undefined, withTime, undefined, { rows: withTime, minRows });
    if (badTime.count > 0) add('invalid-timestamps', badTime.count > 0.01 * rows ? 'error' : 'warning', `${badTime.count} rows have a missing or unreadable timestamp and will be dropped.`, badTime, badTime.count);
    if (dupes.count > 0) add('duplicate-timestamps', 'warning', `${dupes.count} rows repeat the timestamp of the row before.`, dupes, dupes.count);
    if (backwards.count > 0) add('backwards-timestamps', 'warning', `${backwards.count} times the timestamp goes backwards: the rows are not in time order.`, backwards, backwards.count);
    if (gaps.count > 0)
      add('time-gaps', 'warning', `${gaps.count} gaps longer than ${gapIntervals} intervals (${schema.expectedIntervalSeconds} s each).`, gaps, gaps.count, undefined, { thresholdSeconds: gapMs / 1000 });

    const profiles: ColumnProfile[] = [];
    const seriesColumns: DownsampledSeries['columns'] = [];
    const all = [...sensors.map((s, j) => ({ name: s.name, unit: s.unit, range: s.expectedRange, c: cols[j], role: 'sensor' as const, j })), ...(label ? [{ name: schema.labelColumn as string, unit: undefined, range: undefined, c: label, role: 'label' as const, j: ns }] : [])];
    for (const { name, unit, range, c, role, j } of all) {
      const std = c.valid > 1 ? Math.sqrt(c.m2 / (c.valid - 1)) : Number.NaN;
      const qv = c.sketch.quantiles(QUANTILES);
      profiles.push({
        name,
        role,
        ...(unit !== undefined ? { unit } : {}),
        ...(range !== undefined ? { expectedRange: range } : {}),
        count: rows,
        valid: c.valid,
        missing: c.missing,
        invalid: c.invalid,
        min: finite(c.sketch.min),
        max: finite(c.sketch.max),
        mean: c.valid > 0 ? c.mean : null,
        std: finite(std),
        quantiles: QUANTILES.map((q, i) => ({ q, value: finite(qv[i]) })),
        histogram: histogram(c.sketch),
      });
      seriesColumns.push(seriesOf(series, j, name));
      if (role === 'label') continue;

      if (c.missing > 0) {
        const ratio = c.missing / rows;
        add('missing-values', ratio > 0.5 ? 'error' : ratio > 0.05 ? 'warning' : 'info', `${c.missing} values missing (${pct(ratio)}).`, c.missingAt, c.missing, name, { ratio });
      }
      if (c.invalid > 0) add('non-numeric-values', 'warning', `${c.invalid} values are not numbers and count as missing.`, c.invalidAt, c.invalid, name);
      if (c.valid > 1 && c.sketch.min === c.sketch.max) add('constant-column', 'warning', `Every value is ${c.sketch.min}: the column carries no information.`, undefined, c.valid, name, { value: c.sketch.min });
      else if (c.flat.count > 0)
        add('flatline', 'warning', `${c.flat.count} rows sit in runs of at least ${flatMin} identical values (stuck sensor?).`, c.flat, c.flat.count, name, { minRunRows: flatMin });
      if (c.outOfRange.count > 0 && range)
        add('out-of-range', c.outOfRange.count > 0.1 * c.valid ? 'error' : 'warning', `${c.outOfRange.count} values outside the expected range [${range.min}, ${range.max}].`, c.outOfRange, c.outOfRange.count, name, range);
      const shifts = levelShifts(series, j, maxRanges);
      if (shifts.ranges.length > 0)
        add('level-shift', 'warning', `${shifts.ranges.length} sudden level shifts, the largest from ${round(shifts.largest.from)} to ${round(shifts.largest.to)}.`, undefined, shifts.ranges.length, name, {
          largestFrom: shifts.largest.from,
          largestTo: shifts.largest.to,
        });
      if (shifts.ranges.length > 0) findings[findings.length - 1].ranges = shifts.ranges;
      const modes = operatingModes(c.sketch);
      if (modes)
        add('operating-modes', 'info', `Values fall into two separate groups around ${round(modes.low)} (${pct(modes.lowShare)}) and ${round(modes.high)} (${pct(1 - modes.lowShare)}): several operating modes; train with enough data from each.`, undefined, c.valid, name, {
          modes: 2,
          lowCentre: modes.low,
          highCentre: modes.high,
          lowShare: modes.lowShare,
          separation: modes.eta,
        });
    }

    findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.check.localeCompare(b.check) || (a.column ?? '').localeCompare(b.column ?? ''));
    const count = (s: Severity) => findings.filter((f) => f.severity === s).length;
    const median = steps.quantiles([0.5])[0];
    return {
      version: 1,
      generatedAt: (options.now?.() ?? new Date()).toISOString(),
      ...(options.datasetId !== undefined ? { datasetId: options.datasetId } : {}),
      schema,
      summary: {
        rows,
        rowsWithTime: withTime,
        sensorColumns: ns,
        start: isoOrNull(minT),
        end: isoOrNull(maxT),
        expectedIntervalSeconds: schema.expectedIntervalSeconds ?? null,
        medianIntervalSeconds: finite(median / 1000),
        errors: count('error'),
        warnings: count('warning'),
        infos: count('info'),
        verdict: count('error') > 0 ? 'not-trainable' : count('warning') > 0 ? 'usable-with-warnings' : 'good',
      },
      columns: profiles,
      series: {
        rowsPerPoint: series.rowsPerBucket,
        fromLine: Array.from(series.fromLine.subarray(0, series.buckets)),
        toLine: Array.from(series.toLine.subarray(0, series.buckets)),
        time: Array.from(series.time.subarray(0, series.buckets), finite),
        columns: seriesColumns,
      },
      findings,
    };
  }
}

const round = (x: number) => Number(x.toPrecision(4));

function histogram(sketch: QuantileSketch): { edges: number[]; counts: number[] } {
  if (sketch.count === 0) return { edges: [], counts: [] };
  const { min, max } = sketch;
  const bins = min === max ? 1 : HISTOGRAM_BINS;
  const width = (max - min) / bins || 1;
  const counts = new Array<number>(bins).fill(0);
  const { values, weights } = sketch.weighted();
  for (let i = 0; i < values.length; i++) counts[Math.min(bins - 1, Math.floor((values[i] - min) / width))] += weights[i];
  return { edges: Array.from({ length: bins + 1 }, (_, i) => (i === bins ? max : min + i * width)), counts };
}

function seriesOf(s: SeriesDownsampler, c: number, name: string) {
  const min: (number | null)[] = [];
  const max: (number | null)[] = [];
  const mean: (number | null)[] = [];
  for (let b = 0; b < s.buckets; b++) {
    const i = b * s.columns + c;
    const n = s.n[i];
    min.push(n > 0 ? s.min[i] : null);
    max.push(n > 0 ? s.max[i] : null);
    mean.push(n > 0 ? s.sum[i] / n : null);
  }
  return { name, min, max, mean };
}

/** Thresholds of the level-shift rule (see levelShifts). */
const LEVEL_SHIFT = { flatness: 5, noise: 3, unusual: 6 };

/**
 * Sudden level shifts, found on the downsampled bucket means m of one column.
 *
 * At scale (W, g) and bucket i, the W buckets before i (L) are compared with the W buckets that
 * follow a gap of g buckets (R = i+g .. i+g+W): the gap is the time the change takes, 0 for a
 * clean step and up to W / 2. Scales run from W = 10 buckets (fewer for short series) up by a
 * factor of 1.25 while L, gap and R fit, with g = 0, W/8, W/4, 3W/8 and W/2. (A single small
 * scale with no gap misses changes that take longer than a few buckets: the SKAB valve file's
 * temperature drops by 4 degrees in about 80 s, 40 buckets of 2 rows, and any 10-bucket window
 * pair across it sees a steady slope, which the flatness test rightly takes for a ramp.)
 * The difference D = mean(R) - mean(L) is a level shift when it is
 * - more than 5 (1 + g/W) times the spread of the bucket means inside L and R (the root mean of
 *   the two variances): two flat stretches, not a ramp, for which the ratio is sqrt(12) (1 + g/W),
 *   about 3.5 (1 + g/W), however steep;
 * - still so with L and R twice as long (cut at the ends of the series): the new level holds on
 *   (a bump that comes back, or a wave, fails);
 * - more than 3 times the point-level noise (the pooled within-bucket standard deviation): a
 *   change one can see;
 * - more than 6 times the median |D| of the same scale at the positions whose windows share no
 *   bucket with L, the gap or R (at least 10 of them): the change is unusual for this series at
 *   this time scale. A sine wave, whose extremes look flat through a gap, moves about as much
 *   everywhere (its max / median ratio is about 1.4); ramps and drifts about as much (ratio
 *   near 1); noise and random walks rarely reach 6 at a place that also passes the tests above.
 * Of each scale only the local maxima of |D| along i are considered. Candidates that describe the
 * same change (at several scales or positions) count once: the largest |D| wins, and its range
 * runs from the last bucket still within 10% of D of the old level to the first within 10% of
 * the new one.
 */
export function levelShifts(s: SeriesDownsampler, c: number, maxRanges: number): { ranges: Finding['ranges']; largest: { from: number; to: number } } {
  const idx: number[] = [];
  const mv: number[] = [];
  let pooled = 0;
  let pooledN = 0;
  for (let b = 0; b < s.buckets; b++) {
    const i = b * s.columns + c;
    const n = s.n[i];
    if (n === 0) continue;
    idx.push(b);
    const mu = s.sum[i] / n;
    mv.push(mu);
    if (n > 1) {
      pooled += Math.max(0, s.sumSq[i] - n * mu * mu);
      pooledN += n - 1;
    }
  }
  const none = { ranges: [], largest: { from: 0, to: 0 } };
  const n = mv.length;
  const W0 = Math.max(3, Math.min(10, Math.floor(n / 20)));
  if (n < 2 * W0 + 1) return none;
  const m = Float64Array.from(mv);
  let noise: number;
  if (pooledN >= n) noise = Math.sqrt(pooled / pooledN);
  else {
    const diffs = mv
      .slice(1)
      .map((x, i) => Math.abs(x - mv[i]))
      .sort((a, b) => a - b);
    noise = (1.4826 * diffs[Math.floor(diffs.length / 2)]) / Math.SQRT2;
  }
  // Prefix sums (shifted by the first mean, for precision) give any window's mean and variance in O(1).
  const p1 = new Float64Array(n + 1);
  const p2 = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const d = m[i] - m[0];
    p1[i + 1] = p1[i] + d;
    p2[i + 1] = p2[i] + d * d;
  }
  const meanOf = (a: number, b: number) => m[0] + (p1[b] - p1[a]) / (b - a);
  const varOf = (a: number, b: number) => {
    const k = b - a;
    const s1 = p1[b] - p1[a];
    return Math.max(0, (p2[b] - p2[a] - (s1 * s1) / k) / (k - 1));
  };

  interface Candidate {
    i: number;
    W: number;
    g: number;
    delta: number;
    from: number;
    to: number;
    a: number;
    b: number;
  }
  const candidates: Candidate[] = [];
  const D = new Float64Array(n);
  const scratch = new Float64Array(n);
  for (let W = W0; 2 * W + 1 <= n; W = Math.max(W + 1, Math.round(W * 1.25))) {
    const gaps = [...new Set([0, Math.round(W / 8), Math.round(W / 4), Math.round((3 * W) / 8), Math.round(W / 2)])];
    for (const g of gaps) {
      const last = n - W - g; // positions i in [W, last]
      if (last < W) continue;
      for (let i = W; i <= last; i++) D[i] = (p1[i + g + W] - p1[i + g] - p1[i] + p1[i - W]) / W;
      const span = W + g;
      const minDelta = LEVEL_SHIFT.noise * noise;
      for (let i = W; i <= last; i++) {
        const delta = Math.abs(D[i]);
        if (!(delta > minDelta)) continue;
        // Only the local maxima of |D| (the best placed comparison).
        if ((i > W && Math.abs(D[i - 1]) > delta) || (i < last && Math.abs(D[i + 1]) >= delta)) continue;
        const spread = Math.sqrt((varOf(i - W, i) + varOf(i + g, i + g + W)) / 2);
        if (!(delta > LEVEL_SHIFT.flatness * (1 + g / W) * spread)) continue;
        // Both levels hold on for twice as long (or to the end of the series): not a bump.
        const l2 = Math.max(0, i - 2 * W);
        const r2 = Math.min(n, i + g + 2 * W);
        const delta2 = Math.abs(meanOf(i + g, r2) - meanOf(l2, i));
        const spread2 = Math.sqrt((varOf(l2, i) + varOf(i + g, r2)) / 2);
        if (!(delta2 > LEVEL_SHIFT.flatness * (1 + g / Math.min(i - l2, r2 - i - g)) * spread2)) continue;
        // The same difference elsewhere: positions whose windows share no bucket with these.
        let k = 0;
        for (let j = W; j <= last; j++) if (j + span <= i - W || j - W >= i + span) scratch[k++] = Math.abs(D[j]);
        if (k < 10) continue;
        const typical = quickMedian(scratch, k);
        if (!(delta > LEVEL_SHIFT.unusual * typical)) continue;
        const from = meanOf(i - W, i);
        const to = meanOf(i + g, i + g + W);
        // The transition: from the last bucket near the old level to the first near the new one.
        const progress = (x: number) => (x - from) / (to - from);
        let b = i + g;
        for (let j = i - 1; j <= i + g; j++)
          if (progress(m[j]) >= 0.9) {
            b = j;
            break;
          }
        let a = i - 1;
        for (let j = b - 1; j >= i - 1; j--)
          if (progress(m[j]) <= 0.1) {
            a = j;
            break;
          }
        if (b <= a) b = a + 1;
        candidates.push({ i, W, g, delta, from, to, a, b });
      }
    }
  }
  candidates.sort((x, y) => y.delta - x.delta);
  const chosen: Candidate[] = [];
  for (const cand of candidates)
    if (chosen.every((x) => cand.a - x.b >= Math.min(x.W, cand.W) || x.a - cand.b >= Math.min(x.W, cand.W))) chosen.push(cand);
  if (chosen.length === 0) return none;
  const largest = chosen[0];
  const ranges = chosen
    .slice(0, maxRanges)
    .sort((x, y) => x.a - y.a)
    .map((x) => {
      const b0 = idx[x.a];
      const b1 = idx[x.b];
      return { fromLine: s.toLine[b0], toLine: s.fromLine[b1], start: isoOrNull(s.time[b0]), end: isoOrNull(s.time[b1]), count: 1 };
    });
  return { ranges, largest: { from: largest.from, to: largest.to } };
}

/** Median of a[0, n) (reorders a). */
function quickMedian(a: Float64Array, n: number): number {
  const k = n >> 1;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k];
}

/**
 * Two operating modes: Otsu's split of the value distribution (from the sketch) explains at
 * least 90% of the variance and each side holds at least 5% of the values. (A sine wave
 * explains 81%, two modes 6 standard deviations apart 90%.)
 */
export function operatingModes(sketch: QuantileSketch): { low: number; high: number; lowShare: number; eta: number } | undefined {
  if (sketch.count < 20 || sketch.min === sketch.max) return undefined;
  const { values, weights } = sketch.weighted();
  let W = 0;
  let S = 0;
  let SS = 0;
  for (let i = 0; i < values.length; i++) {
    W += weights[i];
    S += weights[i] * values[i];
    SS += weights[i] * values[i] * values[i];
  }
  const mean = S / W;
  const total = SS / W - mean * mean;
  if (!(total > 0)) return undefined;
  let w0 = 0;
  let s0 = 0;
  let best = { eta: 0, low: 0, high: 0, share: 0 };
  for (let i = 0; i < values.length - 1; i++) {
    w0 += weights[i];
    s0 += weights[i] * values[i];
    if (values[i + 1] === values[i]) continue;
    const p = w0 / W;
    if (p < 0.05 || p > 0.95) continue;
    const m0 = s0 / w0;
    const m1 = (S - s0) / (W - w0);
    const between = p * (1 - p) * (m1 - m0) ** 2;
    const eta = between / total;
    if (eta > best.eta) best = { eta, low: m0, high: m1, share: p };
  }
  return best.eta >= 0.9 ? { low: best.low, high: best.high, lowShare: best.share, eta: best.eta } : undefined;
}
