import type { z } from 'zod';
import { ValidationError, type FieldIssue } from '../platform/errors.js';

/** Issues listed in a problem; the rest are counted, so a huge bad body cannot make a response over Lambda's 6 MB limit. */
const maxIssues = 20;

/** Issues as JSON-pointer-like paths with the part of the request they came from. */
export function issuesOf(where: string, error: z.ZodError): FieldIssue[] {
  return error.issues.slice(0, maxIssues).map((issue) => ({
    pointer: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}

/** Parses `value` with `schema`, or throws a 400 that names the failing fields (the first 20, and how many more). */
export function parseOrThrow<S extends z.ZodType>(where: string, schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = issuesOf(where, result.error);
  const more = result.error.issues.length - issues.length;
  const listed = issues.map((i) => `${i.pointer} ${i.message}`).join('; ');
  throw new ValidationError(`Invalid ${where}: ${listed}${more > 0 ? `; and ${more} more` : ''}`, issues);
}
