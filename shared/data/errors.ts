/**
 * Typed errors of the data context. A dataset that cannot be processed raises a
 * DataValidationError carrying every fatal issue found, so the HTTP layer answers 422 with
 * the list and the pipeline marks the dataset FAILED with the same words.
 */
import { z } from 'zod';
import { TelltaleError } from '../platform/errors.js';

export const FatalIssueCode = z
  .enum([
    'EMPTY_FILE',
    'HEADER_ONLY',
    'BINARY_CONTENT',
    'INVALID_ENCODING',
    'UNSUPPORTED_ENCODING',
    'DECOMPRESSION_FAILED',
    'LINE_TOO_LONG',
    'SINGLE_COLUMN',
    'DELIMITER_MISMATCH',
    'DUPLICATE_COLUMN',
    'FORMULA_COLUMN_NAME',
    'TOO_MANY_COLUMNS',
    'MISSING_COLUMN',
    'NO_TIMESTAMP_COLUMN',
    'NO_SENSOR_COLUMNS',
    'INVALID_JSON',
    'RAGGED_ROWS',
    'UNCLOSED_QUOTE',
    'UNPARSEABLE_TIMESTAMPS',
    'MIXED_TIMEZONES',
    'NO_VALID_ROWS',
    'UNSORTED_BEYOND_WINDOW',
    'INVALID_RECIPE',
    'OUTPUT_TOO_LARGE',
  ])
  .describe('Stable code of a problem that fails the whole dataset');
export type FatalIssueCode = z.infer<typeof FatalIssueCode>;

export const FatalIssue = z
  .object({
    code: FatalIssueCode,
    message: z.string().describe('What is wrong and how to fix it, in plain words'),
    line: z.number().int().positive().optional().describe('1-based line of the file where the problem was found'),
    column: z.string().optional().describe('Column concerned, when there is one'),
  })
  .describe('A problem that fails the whole dataset');
export type FatalIssue = z.infer<typeof FatalIssue>;

/** The data cannot be used as given (422): the issues say why, line by line where they can. */
export class DataValidationError extends TelltaleError {
  override readonly name = 'DataValidationError';
  readonly status = 422;
  readonly type = 'data-invalid';
  readonly title = 'The data cannot be processed';
  readonly issues: FatalIssue[];

  constructor(issues: FatalIssue[]) {
    super(issues.map((i) => i.message).join('; ') || 'invalid data', { issues });
    this.issues = issues;
  }

  /** The first issue's code, for logs and the dataset's FAILED cause. */
  get code(): FatalIssueCode {
    return this.issues[0]?.code ?? 'NO_VALID_ROWS';
  }

  static of(code: FatalIssueCode, message: string, where: { line?: number; column?: string } = {}): DataValidationError {
    return new DataValidationError([{ code, message, ...where }]);
  }
}
