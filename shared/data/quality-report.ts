/** The data profile (GET /data/quality-report, and the pipeline's profile step): zod schemas are the contract. */
import { z } from 'zod';
import { DatasetSchema } from './dataset-schema.js';

export const Severity = z.enum(['error', 'warning', 'info']).describe('error: the data cannot be trained on as is; warning: it can, but results suffer; info: worth knowing');
export type Severity = z.infer<typeof Severity>;

export const QualityCheck = z
  .enum([
    'missing-values',
    'non-numeric-values',
    'invalid-timestamps',
    'duplicate-timestamps',
    'backwards-timestamps',
    'time-gaps',
    'flatline',
    'constant-column',
    'out-of-range',
    'level-shift',
    'operating-modes',
    'insufficient-data',
  ])
  .describe('Stable id of a quality check');
export type QualityCheck = z.infer<typeof QualityCheck>;

const nullableNumber = z.number().nullable();

export const FindingRange = z
  .object({
    fromLine: z.number().int().describe('First line of the range (1-based file line)'),
    toLine: z.number().int().describe('Last line of the range'),
    start: z.string().nullable().describe('Time of the first row, ISO 8601 UTC'),
    end: z.string().nullable().describe('Time of the last row, ISO 8601 UTC'),
    count: z.number().int().nonnegative().describe('Rows (or events) in the range'),
  })
  .describe('Where a finding occurs');
export type FindingRange = z.infer<typeof FindingRange>;

export const Finding = z
  .object({
    check: QualityCheck,
    severity: Severity,
    column: z.string().optional().describe('Column concerned; absent for checks on rows or timestamps'),
    count: z.number().int().nonnegative().describe('How many rows or events the finding covers in total'),
    message: z.string().describe('What was found, in plain words'),
    ranges: z.array(FindingRange).describe('Where, up to a cap'),
    rangesTruncated: z.boolean().describe('True when there are more ranges than listed'),
    details: z.record(z.string(), z.number()).optional().describe('Check-specific figures (e.g. ratio, threshold, mode centres)'),
  })
  .describe('One problem (or fact) found in the data');
export type Finding = z.infer<typeof Finding>;

export const ColumnProfile = z
  .object({
    name: z.string(),
    role: z.enum(['sensor', 'label']),
    unit: z.string().optional(),
    expectedRange: z.object({ min: z.number(), max: z.number() }).optional(),
    count: z.number().int().nonnegative().describe('Rows'),
    valid: z.number().int().nonnegative().describe('Numeric values'),
    missing: z.number().int().nonnegative().describe('Empty or NA cells'),
    invalid: z.number().int().nonnegative().describe('Non-numeric cells'),
    min: nullableNumber,
    max: nullableNumber,
    mean: nullableNumber,
    std: nullableNumber.describe('Sample standard deviation'),
    quantiles: z.array(z.object({ q: z.number(), value: nullableNumber })).describe('From a streaming sketch (rank error well under 1%)'),
    histogram: z.object({ edges: z.array(z.number()), counts: z.array(z.number()) }).describe('Value histogram (counts estimated from the sketch)'),
  })
  .describe('Statistics of one column');
export type ColumnProfile = z.infer<typeof ColumnProfile>;

export const SeriesColumn = z.object({
  name: z.string(),
  min: z.array(nullableNumber),
  max: z.array(nullableNumber),
  mean: z.array(nullableNumber),
});
export type SeriesColumn = z.infer<typeof SeriesColumn>;

export const DownsampledSeries = z
  .object({
    rowsPerPoint: z.number().int().positive(),
    fromLine: z.array(z.number().int()),
    toLine: z.array(z.number().int()),
    time: z.array(nullableNumber).describe('Epoch ms of the first row of each point'),
    columns: z.array(SeriesColumn),
  })
  .describe('Each column in file order, cut into at most about 1000 points (min, max and mean per point), for charts');
export type DownsampledSeries = z.infer<typeof DownsampledSeries>;

export const QualityReport = z
  .object({
    version: z.literal(1),
    generatedAt: z.string(),
    datasetId: z.string().optional(),
    schema: DatasetSchema,
    summary: z.object({
      rows: z.number().int().nonnegative(),
      rowsWithTime: z.number().int().nonnegative(),
      sensorColumns: z.number().int().nonnegative(),
      start: z.string().nullable(),
      end: z.string().nullable(),
      expectedIntervalSeconds: nullableNumber.describe('Declared, or inferred from the first rows'),
      medianIntervalSeconds: nullableNumber.describe('Median of the positive steps between consecutive rows'),
      errors: z.number().int().nonnegative(),
      warnings: z.number().int().nonnegative(),
      infos: z.number().int().nonnegative(),
      verdict: z.enum(['good', 'usable-with-warnings', 'not-trainable']),
    }),
    columns: z.array(ColumnProfile),
    series: DownsampledSeries,
    findings: z.array(Finding).describe('Sorted by severity, then check'),
  })
  .describe('Data quality profile of a dataset');
export type QualityReport = z.infer<typeof QualityReport>;
