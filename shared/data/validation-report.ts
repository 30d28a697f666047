/** What validation says about a file: the zod schema is the API contract of POST /data/validate and of the pipeline's validate step. */
import { z } from 'zod';
import { DatasetSchema } from './dataset-schema.js';
import { FatalIssue } from './errors.js';

export const RowErrorCode = z
  .enum(['INVALID_TIMESTAMP', 'NON_NUMERIC_VALUE', 'INVALID_LABEL', 'RAGGED_ROW', 'INVALID_JSON'])
  .describe('Stable code of a problem on one row');
export type RowErrorCode = z.infer<typeof RowErrorCode>;

export const RowError = z
  .object({
    line: z.number().int().positive().describe('1-based line in the file'),
    code: RowErrorCode,
    column: z.string().optional().describe('Column concerned'),
    value: z.string().optional().describe('The offending text, cut to 80 characters'),
    message: z.string().describe('What is wrong'),
  })
  .describe('A problem on one row; the row is kept with the cell treated as missing');
export type RowError = z.infer<typeof RowError>;

export const ValidationCounts = z
  .object({
    lines: z.number().int().nonnegative().describe('Lines read, header and blank lines included'),
    rows: z.number().int().nonnegative().describe('Data rows'),
    blankLines: z.number().int().nonnegative(),
    validRows: z.number().int().nonnegative().describe('Rows without any row error'),
    rowsWithErrors: z.number().int().nonnegative(),
    raggedRows: z.number().int().nonnegative().describe('Rows whose field count differs from the header'),
    invalidTimestamps: z.number().int().nonnegative(),
    missingTimestamps: z.number().int().nonnegative(),
    missingValues: z.number().int().nonnegative().describe('Empty or NA sensor cells (a quality finding, not an error)'),
    nonNumericValues: z.number().int().nonnegative(),
    zonedTimestamps: z.number().int().nonnegative().describe('Timestamps with Z or a UTC offset'),
    naiveTimestamps: z.number().int().nonnegative().describe('Timestamps without a zone (read as UTC)'),
    epochTimestamps: z.number().int().nonnegative(),
  })
  .describe('Counts over the whole file');
export type ValidationCounts = z.infer<typeof ValidationCounts>;

export const ValidationReport = z
  .object({
    valid: z.boolean().describe('True when there is no fatal error'),
    format: z.enum(['csv', 'jsonl']).optional().describe('Format detected (after gzip, if any)'),
    delimiter: z.string().optional().describe('CSV delimiter used'),
    header: z.array(z.string()).describe('Column names as read'),
    schema: DatasetSchema.optional().describe('The declared schema, or the one inferred from the first rows'),
    schemaSource: z.enum(['declared', 'inferred']).optional(),
    ignoredColumns: z.array(z.string()).describe('Columns that are neither timestamp, sensor nor label'),
    fatalErrors: z.array(FatalIssue).describe('Problems that fail the dataset'),
    rowErrors: z.array(RowError).describe('Row problems, up to the cap'),
    rowErrorsTruncated: z.boolean().describe('True when more row errors occurred than are listed (counts are complete)'),
    counts: ValidationCounts,
    timeRange: z
      .object({ start: z.string().describe('Earliest timestamp, ISO 8601 UTC'), end: z.string().describe('Latest timestamp, ISO 8601 UTC') })
      .optional(),
    outOfOrderRows: z.number().int().nonnegative().describe('Rows whose timestamp is earlier than the previous row'),
  })
  .describe('Result of validating a dataset file');
export type ValidationReport = z.infer<typeof ValidationReport>;
