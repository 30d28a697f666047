import { z } from 'zod';
import { assertInRange, NonFiniteValueError, SeriesTooShortError, ShapeMismatchError } from '../streaming/errors.js';
import { quantileSorted } from '../streaming/stats.js';

export const featureReferenceSchema = z.object({
  name: z.string().min(1),
  count: z.number().int().min(1),
  min: z.number(),
  max: z.number(),
  mean: z.number(),
  std: z.number().min(0),
  /** Interior PSI bin edges: the reference's deciles (deduplicated, so tied data gives fewer bins). */
  binEdges: z.array(z.number()),
  /** Reference share of each bin (binEdges.length + 1 bins; bin i is (edge[i-1], edge[i]]). */
  binFractions: z.array(z.number().min(0).max(1)),
  /** Up to sampleSize evenly spaced order statistics (the reference ECDF to within 1/sampleSize), ascending. */
  sample: z.array(z.number()),
});
export type FeatureReference = z.infer<typeof featureReferenceSchema>;

export const referenceSummarySchema = z.object({
  version: z.literal(1),
  features: z.array(featureReferenceSchema).min(1),
});
/** What a training job stores with a model so drift can be checked later: a few KB a feature. */
export type ReferenceSummary = z.infer<typeof referenceSummarySchema>;

export interface SummariseOptions {
  /** Order statistics kept per feature (default 500). */
  sampleSize?: number;
  /** PSI bins (default 10, from the reference quantiles). */
  bins?: number;
}

/** Validates a row-major matrix against feature names and returns its columns. */
export function columnsOf(matrix: readonly (readonly number[])[], featureNames: readonly string[], what: string): Float64Array[] {
  if (featureNames.length === 0) throw new ShapeMismatchError('featureNames is empty');
  if (new Set(featureNames).size !== featureNames.length) throw new ShapeMismatchError('featureNames contains duplicates');
  const columns = featureNames.map(() => new Float64Array(matrix.length));
  matrix.forEach((row, r) => {
    if (row.length !== featureNames.length) throw new ShapeMismatchError(`${what} row ${r} has ${row.length} values, ${featureNames.length} features were named`, { row: r, length: row.length, expected: featureNames.length });
    row.forEach((v, c) => {
      if (!Number.isFinite(v)) throw new NonFiniteValueError(`${what} values (feature "${featureNames[c]}", row ${r})`, r, v);
      columns[c][r] = v;
    });
  });
  return columns;
}

/** Bin index of v for interior edges (bin i is (edge[i-1], edge[i]]), by binary search. */
export function binOf(edges: readonly number[], v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v <= edges[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Summarises a training matrix (rows of features) into the reference used by detectDrift. */
export function summariseReference(matrix: readonly (readonly number[])[], featureNames: readonly string[], options: SummariseOptions = {}): ReferenceSummary {
  const sampleSize = options.sampleSize ?? 500;
  const bins = options.bins ?? 10;
  assertInRange('sampleSize', sampleSize, 10, 100_000, true);
  assertInRange('bins', bins, 2, 100, true);
  if (matrix.length < 2) throw new SeriesTooShortError('reference matrix', matrix.length, 2, 'rows to summarise a distribution');
  const columns = columnsOf(matrix, featureNames, 'reference');
  return { version: 1, features: columns.map((column, c) => summariseColumn(featureNames[c], column, sampleSize, bins)) };
}

function summariseColumn(name: string, column: Float64Array, sampleSize: number, bins: number): FeatureReference {
  const sorted = Float64Array.from(column).sort();
  const n = sorted.length;
  let mean = 0;
  for (const v of sorted) mean += v / n;
  let ss = 0;
  for (const v of sorted) ss += (v - mean) ** 2;
  const edges = [...new Set(Array.from({ length: bins - 1 }, (_, i) => quantileSorted(sorted, (i + 1) / bins)))];
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const v of sorted) counts[binOf(edges, v)]++;
  const k = Math.min(sampleSize, n);
  const sample = Array.from({ length: k }, (_, i) => (k === n ? sorted[i] : quantileSorted(sorted, i / (k - 1))));
  return { name, count: n, min: sorted[0], max: sorted[n - 1], mean, std: Math.sqrt(ss / Math.max(1, n - 1)), binEdges: edges, binFractions: counts.map((c) => c / n), sample };
}
