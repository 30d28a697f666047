/** The recipe of POST /data/preprocess and of the pipeline's preprocess step, and what applying it reports. */
import { z } from 'zod';

export const ScaleParams = z
  .record(
    z.string(),
    z.object({
      center: z.number().describe('Subtracted first: the mean (z-score) or the minimum (min-max)'),
      scale: z.number().describe('Then divided by: the standard deviation (z-score) or max - min (min-max); 0 is treated as 1'),
    }),
  )
  .describe('Scaling parameters per sensor column');
export type ScaleParams = z.infer<typeof ScaleParams>;

export const WindowStat = z.enum(['mean', 'std', 'min', 'max']);
export type WindowStat = z.infer<typeof WindowStat>;

/**
 * Each gap between two rows adds at most maxEmptyBuckets rows, so this caps how many rows one row
 * in can become (a few hundred bytes must not turn into megabytes).
 */
export const maxEmptyBucketsLimit = 1_000;

export const PreprocessRecipe = z
  .object({
    sort: z.boolean().default(true).describe('Sort rows by time. Rows may be out of order by at most reorderWindowRows rows; worse input fails with UNSORTED_BEYOND_WINDOW'),
    reorderWindowRows: z.number().int().min(1).max(1_000_000).default(50_000).describe('Rows held to reorder out-of-order input (memory: about 8 bytes per row and column)'),
    dropDuplicates: z.boolean().default(true).describe('Drop rows identical to an earlier row with the same timestamp'),
    resample: z
      .object({
        intervalSeconds: z.number().positive().max(31_536_000).optional().describe("Bucket width; defaults to the schema's expectedIntervalSeconds"),
        maxEmptyBuckets: z
          .number()
          .int()
          .min(0)
          .max(maxEmptyBucketsLimit)
          .default(100)
          .describe(
            `Longest run of empty buckets written as missing rows; longer gaps stay gaps (counted in gapsLeft and emptyBucketsRefused). Bounds the output: rows out <= (1 + maxEmptyBuckets) x rows in. At most ${maxEmptyBucketsLimit}`,
          ),
      })
      .optional()
      .describe('Resample to a fixed interval: the mean of each column within each bucket (the label: its maximum)'),
    impute: z
      .object({
        method: z.enum(['linear', 'ffill']).default('linear').describe('Linear in time between the neighbours, or the last value carried forward'),
        maxGapRows: z.number().int().min(1).max(10_000).default(5).describe('Longest run of missing values filled (rows, i.e. intervals after resampling); longer runs stay missing'),
      })
      .optional(),
    scale: z
      .object({
        method: z.enum(['zscore', 'minmax']),
        params: ScaleParams.optional().describe('Parameters to apply (e.g. those recorded at training); fitted on the data when absent'),
      })
      .optional(),
    windowFeatures: z
      .object({
        window: z.number().int().min(2).max(100_000).describe('Rows in the rolling window'),
        stats: z.array(WindowStat).min(1).default(['mean', 'std', 'min', 'max']),
        columns: z.array(z.string()).optional().describe('Sensor columns to derive features from; all when absent'),
      })
      .optional()
      .describe('Rolling statistics added as columns named <column>_<stat>_<window>'),
    significantDigits: z.number().int().min(3).max(17).default(10).describe('Significant digits of written values'),
  })
  .describe('Steps applied in order: parse, sort, drop duplicates, resample, impute, scale, window features');
export type PreprocessRecipe = z.infer<typeof PreprocessRecipe>;
export type PreprocessRecipeInput = z.input<typeof PreprocessRecipe>;

export const PreprocessResult = z
  .object({
    columns: z.array(z.string()).describe('Header of the output'),
    rowsIn: z.number().int().nonnegative(),
    rowsOut: z.number().int().nonnegative(),
    droppedInvalidTime: z.number().int().nonnegative().describe('Rows dropped for a missing or unparseable timestamp'),
    droppedDuplicates: z.number().int().nonnegative(),
    reordered: z.number().int().nonnegative().describe('Rows that arrived earlier than a previous row and were moved'),
    emptyBuckets: z.number().int().nonnegative().describe('Resampling buckets with no data, written as missing rows'),
    gapsLeft: z.number().int().nonnegative().describe('Gaps longer than maxEmptyBuckets, left without rows'),
    emptyBucketsRefused: z.number().int().nonnegative().default(0).describe('Empty buckets of those gaps: the missing rows maxEmptyBuckets kept out of the output'),
    imputed: z.number().int().nonnegative().describe('Values filled by imputation'),
    missingOut: z.number().int().nonnegative().describe('Sensor values still missing in the output'),
    scale: z.object({ method: z.enum(['zscore', 'minmax']), params: ScaleParams }).optional(),
    intervalSeconds: z.number().positive().optional().describe('Resampling interval used'),
    timeRange: z.object({ start: z.string(), end: z.string() }).optional(),
  })
  .describe('What preprocessing did');
export type PreprocessResult = z.infer<typeof PreprocessResult>;
