import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { Problem } from '../../../../shared/http/problem.js';
import { createGaussian, createRng } from '../../../../shared/ml/multivariate/rng.js';
import { claimsFor, httpEvent, lambdaContext } from '../../../fixtures/lambda.js';

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** A problem document as the ML routes send it (with the domain's stable `code`). */
export type ProblemJson = Partial<Problem> & { code?: string };

export interface Reply<T> {
  status: number;
  contentType: string | undefined;
  /** The success body or a problem document; tests read either. */
  json: T & ProblemJson;
}

/** POSTs `body` (an object, or raw text) to a handler as HTTP API would, with a token carrying `scopes`. */
export async function post<T>(handler: Handler, path: string, body: unknown, options: { scopes?: string[]; claims?: Record<string, string> | null; headers?: Record<string, string> } = {}): Promise<Reply<T>> {
  const claims = options.claims === null ? undefined : (options.claims ?? claimsFor('acme', ...(options.scopes ?? ['telltale/read'])));
  const response = await handler(httpEvent({ method: 'POST', path, body: typeof body === 'string' ? body : JSON.stringify(body), claims, headers: options.headers }), lambdaContext);
  return { status: response.statusCode ?? 0, contentType: response.headers?.['content-type'] as string | undefined, json: response.body ? JSON.parse(response.body) : undefined };
}

export const T0 = Date.UTC(2026, 0, 1);
export const MINUTE = 60_000;

/** A daily-shaped seasonal series (period 48) with N(0, 0.1) noise; `edit` injects anomalies. */
export function seasonalSeries(n: number, seed: number, edit: (i: number, v: number) => number = (_i, v) => v) {
  const g = createGaussian(createRng(seed));
  return Array.from({ length: n }, (_, i) => ({ timestamp: new Date(T0 + i * MINUTE).toISOString(), value: edit(i, 10 + Math.sin((2 * Math.PI * i) / 48) + 0.1 * g()) }));
}

/** Six sensors driven by two latent factors; `edit` breaks rows. */
export function plantMatrix(rows: number, seed: number, edit: (r: number, row: number[]) => number[] = (_r, row) => row) {
  const g = createGaussian(createRng(seed));
  const features = ['flow', 'pressure', 'temperature', 'current', 'vibration', 'voltage'];
  const data = Array.from({ length: rows }, (_, r) => {
    const a = g();
    const b = g();
    const noise = () => 0.1 * g();
    return edit(r, [a + noise(), 0.8 * a + 0.5 * b + noise(), b + noise(), a - b + noise(), 0.5 * a + noise(), 2 + 0.3 * b + noise()]);
  });
  return { timestamps: data.map((_, r) => T0 + r * 1000), features, rows: data };
}
