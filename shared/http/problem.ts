import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { TelltaleError, ValidationError, type FieldIssue } from '../platform/errors.js';

/** RFC 9457 problem details. `type` is stable and part of the API contract. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  correlationId?: string;
  errors?: FieldIssue[];
}

export const problemTypeUri = (slug: string): string => `urn:telltale:problem:${slug}`;

/** Maps any thrown value to a problem; unknown errors are bugs and leak nothing but the correlation id. */
export function toProblem(error: unknown, instance?: string, correlationId?: string): Problem {
  if (error instanceof TelltaleError) {
    return {
      // Extension members first: they may add fields, never replace the standard ones.
      ...error.details,
      type: problemTypeUri(error.type),
      title: error.title,
      status: error.status,
      detail: error.message,
      instance,
      correlationId,
      ...(error instanceof ValidationError && error.issues.length > 0 ? { errors: error.issues } : {}),
    };
  }
  return {
    type: problemTypeUri('internal'),
    title: 'Internal error',
    status: 500,
    detail: 'An unexpected error occurred. Quote the correlation id when reporting it.',
    instance,
    correlationId,
  };
}

export function problemResponse(problem: Problem, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: problem.status,
    headers: { ...headers, 'content-type': 'application/problem+json' },
    body: JSON.stringify(problem),
  };
}
