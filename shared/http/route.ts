import type { z } from 'zod';
import type { Scope } from '../gateway/scopes.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ResponseContract {
  description: string;
  schema?: z.ZodType;
  /** Media types other than application/json that the route can answer with (e.g. text/html). */
  alsoProduces?: readonly string[];
}

/**
 * One API route: what it accepts and answers. The handler validates with these schemas and the
 * OpenAPI document is generated from them, so a route documents itself by being declared.
 */
export interface RouteContract<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
> {
  method: HttpMethod;
  /** Full path with `{param}` placeholders, e.g. `/api/v1/sensors/{id}`. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  /** The scope a token must carry; `null` makes the route public (health and the API document only). */
  scope: Scope | null;
  request: {
    path?: P;
    query?: Q;
    body?: B;
    /** Larger JSON bodies get 413 before parsing. Defaults to MAX_BODY_BYTES. */
    maxBodyBytes?: number;
    /** Headers the route reads, documented in OpenAPI (e.g. Idempotency-Key). */
    headers?: readonly { name: string; description: string; required?: boolean }[];
  };
  responses: Record<number, ResponseContract>;
}

/** Identity helper that keeps the schemas' types for the handler. */
export const defineRoute = <P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
  route: RouteContract<P, Q, B>,
): RouteContract<P, Q, B> => route;
