/**
 * Quality profile: one streaming pass with fixed-size accumulators per column (moments, a
 * quantile sketch, a downsampled series, run trackers), then checks that need the whole picture
 * (level shifts, operating modes) run on those summaries. Memory does not grow with the rows.
 */
import type { ByteSource } from './byte-source.js';
import { CELL_INVALID, CELL_MISSING } from './cells.js';
import type { DatasetSchema } from './dataset-schema.js';
import type { ColumnProfile, DownsampledSeries, Finding, QualityCheck, QualityReport, Severity } from './quality-report.js';
import { QuantileSketch } from './quantile-sketch.js';
import { RangeRecorder } from './range-recorder.js';
import { SeriesDownsampler } from './series-downsampler.js';
import { openTable } from './table-reader.js';
import { isoOrNull } from './timestamp.js';

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

class ColumnState {
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
  constructor(maxRanges: number) {
    this.missingAt = new RangeRecorder(maxRanges);
    this.invalidAt = new RangeRecorder(maxRanges);
    this.outOfRange = new RangeRecorder(maxRanges);
    this.flat = new RangeRecorder(maxRanges);
  }
}

/** Profiles a dataset file. Throws DataValidationError when the file cannot be read as a table at all. */
export async function profileDataset(source: ByteSource, options: ProfileOptions = {}): Promise<QualityReport> {
  const maxRanges = options.maxRanges ?? 20;
  const flatMin = options.flatlineMinRows ?? 60;
  const gapIntervals = options.gapIntervals ?? 3;
  const minRows = options.minRowsToTrain ?? 1000;
  const table = await openTable(source, { schema: options.schema, maxLineBytes: options.maxLineBytes });
  const { schema } = table.layout;
  const sensors = schema.sensorColumns;
  const ns = sensors.length;
  const hasLabel = schema.labelColumn !== undefined;
  const cols = sensors.map(() => new ColumnState(maxRanges));
  const label = hasLabel ? new ColumnState(maxRanges) : undefined;
  const lo = Float64Array.from(sensors, (c) => c.expectedRange?.min ?? -Infinity);
  const hi = Float64Array.from(sensors, (c) => c.expectedRange?.max ?? Infinity);
  const series = new SeriesDownsampler(ns + (hasLabel ? 1 : 0), Math.max(4, Math.round((options.seriesPoints ?? 1000) * 1.024)));
  const dupes = new RangeRecorder(maxRanges);
  const backwards = new RangeRecorder(maxRanges);
  const gaps = new RangeRecorder(maxRanges);
  const badTime = new RangeRecorder(maxRanges);
  const steps = new QuantileSketch();
  const intervalMs = (schema.expectedIntervalSeconds ?? Number.NaN) * 1000;
  const gapMs = intervalMs * gapIntervals;
  let prevT = Number.NaN;
  let prevLine = 0;
  let row = 0;
  let withTime = 0;
  let minT = Infinity;
  let maxT = -Infinity;

  const closeRun = (c: ColumnState) => {
    if (c.runLength >= flatMin) c.flat.addRange(c.runFromLine, c.runToLine, c.runFromT, c.runToT, c.runLength);
  };

  for await (const b of table.batches()) {
    for (let k = 0; k < b.count; k++, row++) {
      const line = b.line[k];
      const t = b.time[k];
      if (t === t) {
        withTime++;
        if (t < minT) minT = t;
        if (t > maxT) maxT = t;
        if (prevT === prevT) {
          const d = t - prevT;
          if (d === 0) dupes.add(row, line, t);
          else if (d < 0) backwards.add(row, line, t);
          else {
            steps.add(d);
            if (d > gapMs) gaps.addRange(prevLine, line, prevT, t, 1);
          }
        }
        prevT = t;
        prevLine = line;
      } else badTime.add(row, line, t);
      const base = series.row(line, t);
      for (let j = 0; j < ns; j++) {
        const c = cols[j];
        const st = b.status[j][k];
        if (st === CELL_MISSING) {
          c.missing++;
          c.missingAt.add(row, line, t);
          continue;
        }
        if (st === CELL_INVALID) {
          c.invalid++;
          c.invalidAt.add(row, line, t);
          continue;
        }
        const x = b.values[j][k];
        c.valid++;
        const delta = x - c.mean;
        c.mean += delta / c.valid;
        c.m2 += delta * (x - c.mean);
        c.sketch.add(x);
        series.value(base, j, x);
        if (x < lo[j] || x > hi[j]) c.outOfRange.add(row, line, t);
        if (x === c.runValue) {
          c.runLength++;
          c.runToLine = line;
          c.runToT = t;
        } else {
          closeRun(c);
          c.runValue = x;
          c.runLength = 1;
          c.runFromLine = c.runToLine = line;
          c.runFromT = c.runToT = t;
        }
      }
      if (label && b.label) {
        const x = b.label[k];
        if (x === x) {
          label.valid++;
          const delta = x - label.mean;
          label.mean += delta / label.valid;
          label.m2 += delta * (x - label.mean);
          label.sketch.add(x);
          series.value(base, ns, x);
        } else label.missing++;
      }
    }
  }
  for (const c of cols) closeRun(c);

  const rows = table.counts.rows;
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

/**
 * Sudden level shifts on the downsampled means: at bucket i, the means of the W buckets before
 * and after differ by more than 5 times their own spread (a step, not a ramp: a ramp gives
 * about 3.5) and by more than 3 times the point-level noise (so it is a change one can see).
 */
export function levelShifts(s: SeriesDownsampler, c: number, maxRanges: number): { ranges: Finding['ranges']; largest: { from: number; to: number } } {
  const idx: number[] = [];
  const m: number[] = [];
  let pooled = 0;
  let pooledN = 0;
  for (let b = 0; b < s.buckets; b++) {
    const i = b * s.columns + c;
    const n = s.n[i];
    if (n === 0) continue;
    idx.push(b);
    const mu = s.sum[i] / n;
    m.push(mu);
    if (n > 1) {
      pooled += Math.max(0, s.sumSq[i] - n * mu * mu);
      pooledN += n - 1;
    }
  }
  const none = { ranges: [], largest: { from: 0, to: 0 } };
  const W = Math.max(3, Math.min(10, Math.floor(m.length / 20)));
  if (m.length < 2 * W + 1) return none;
  let noise: number;
  if (pooledN >= m.length) noise = Math.sqrt(pooled / pooledN);
  else {
    const diffs = m.slice(1).map((x, i) => Math.abs(x - m[i])).sort((a, b) => a - b);
    noise = (1.4826 * diffs[Math.floor(diffs.length / 2)]) / Math.SQRT2;
  }
  const candidates: { i: number; delta: number; from: number; to: number }[] = [];
  const stats = (from: number, to: number) => {
    let sum = 0;
    for (let i = from; i < to; i++) sum += m[i];
    const mean = sum / (to - from);
    let v = 0;
    for (let i = from; i < to; i++) v += (m[i] - mean) ** 2;
    return { mean, var: v / (to - from - 1) };
  };
  for (let i = W; i + W <= m.length; i++) {
    const L = stats(i - W, i);
    const R = stats(i, i + W);
    const delta = Math.abs(R.mean - L.mean);
    const spread = Math.sqrt((L.var + R.var) / 2);
    if (delta > 5 * spread && delta > 3 * noise && delta > 0) candidates.push({ i, delta, from: L.mean, to: R.mean });
  }
  candidates.sort((a, b) => b.delta - a.delta);
  const chosen: typeof candidates = [];
  for (const cand of candidates) if (chosen.every((x) => Math.abs(x.i - cand.i) >= W)) chosen.push(cand);
  if (chosen.length === 0) return none;
  const largest = chosen[0];
  const ranges = chosen
    .slice(0, maxRanges)
    .sort((a, b) => a.i - b.i)
    .map((x) => {
      const b0 = idx[x.i - 1];
      const b1 = idx[x.i];
      return { fromLine: s.toLine[b0], toLine: s.fromLine[b1], start: isoOrNull(s.time[b0]), end: isoOrNull(s.time[b1]), count: 1 };
    });
  return { ranges, largest: { from: largest.from, to: largest.to } };
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
