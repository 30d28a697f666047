import type { z } from 'zod';
import { ValidationError, type FieldIssue } from '../platform/errors.js';

/** Issues as JSON-pointer-like paths with the part of the request they came from. */
export function issuesOf(where: string, error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    pointer: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}

/** Parses `value` with `schema`, or throws a 400 that names every failing field. */
export function parseOrThrow<S extends z.ZodType>(where: string, schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = issuesOf(where, result.error);
  throw new ValidationError(`Invalid ${where}: ${issues.map((i) => `${i.pointer} ${i.message}`).join('; ')}`, issues);
}
