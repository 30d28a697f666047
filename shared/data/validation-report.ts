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
    valid: z.boolean().describe('True when the data has no problem at all: no fatal error and no row error'),
    accepted: z
      .boolean()
      .describe('True when there is no fatal error: the dataset pipeline takes the data, reading the cells of row errors as missing (POST /datasets gives the same verdict)'),
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

const TimedRow = z.object({ time: z.number().describe('Epoch ms'), line: z.number().int().positive().describe('Line in the part') });
const FirstLines = z
  .object({
    zoned: z.number().int().nonnegative(),
    naive: z.number().int().nonnegative(),
    badTime: z.number().int().nonnegative(),
    ragged: z.number().int().nonnegative(),
  })
  .describe('First line in the part of each kind of row (0 when none)');

/**
 * Validation of one part of a file (a chunk of a split file, or the whole file): what the
 * streaming pass saw, kept small and plain (it is stored as JSON between pipeline steps) so
 * that parts can be merged in file order into the file's ValidationReport. Lines are the
 * part's own: the part's source starts with `headerLines` lines that are not its data (the CSV
 * header, or the placeholder line of a JSON Lines chunk), and `counts.lines` counts them.
 * Not an API contract: only the pipeline reads it back.
 */
export const ValidationPartial = z
  .object({
    chunk: z.number().int().nonnegative().optional().describe('Index of the chunk, when the part is one'),
    layout: z
      .object({
        format: z.enum(['csv', 'jsonl']),
        delimiter: z.string().optional(),
        header: z.array(z.string()),
        schema: DatasetSchema,
        schemaSource: z.enum(['declared', 'inferred']),
        ignoredColumns: z.array(z.string()),
      })
      .optional()
      .describe('Absent when the table could not be opened'),
    noData: FatalIssue.optional().describe('The part has no data line (EMPTY_FILE or HEADER_ONLY): fatal only if no part has data'),
    headerLines: z.number().int().nonnegative(),
    counts: ValidationCounts.describe('Counts of the part; lines are those of its source, headerLines included'),
    rowErrors: z.array(RowError),
    rowErrorsTruncated: z.boolean(),
    fatalErrors: z.array(FatalIssue).describe('Fatal problems raised while reading the part'),
    time: z.object({ min: z.number(), max: z.number(), first: TimedRow, last: TimedRow }).optional().describe('Absent when no row has a readable timestamp'),
    outOfOrderRows: z.number().int().nonnegative().describe('Within the part'),
    firstLines: FirstLines,
  })
  .describe('Validation of one part of a file, to be merged');
export type ValidationPartial = z.infer<typeof ValidationPartial>;
