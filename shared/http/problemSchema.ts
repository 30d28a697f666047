import { z } from 'zod';
import type { ResponseContract } from './route.js';

export const problemSchema = z
  .object({
    type: z.string().describe('Stable URI of the problem type, e.g. urn:telltale:problem:validation-failed'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().describe('What is wrong, for a person'),
    instance: z.string().optional(),
    correlationId: z.string().optional(),
    errors: z.array(z.object({ pointer: z.string(), message: z.string() })).optional().describe('Each failing field'),
  })
  .meta({ id: 'Problem' });

const descriptions: Record<number, string> = {
  400: 'Invalid request (problem+json lists each failing field)',
  401: 'Missing or invalid bearer token',
  403: 'Token lacks the scope, or is not bound to a tenant',
  404: 'Not found (or owned by another tenant)',
  409: 'Conflicts with the current state',
  413: 'Body too large',
  415: 'Body is not application/json',
  422: 'Well-formed but cannot be processed',
  429: 'Throttled',
  503: 'A dependency is unavailable',
};

/** Problem responses a route can give, for its contract and the OpenAPI document. */
export function problemResponses(...statuses: number[]): Record<number, ResponseContract> {
  return Object.fromEntries(statuses.map((s) => [s, { description: descriptions[s] ?? 'Problem', schema: problemSchema }]));
}
