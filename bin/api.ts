import { CliError, usageError } from './errors.js';
import { optionalString, type Values } from './options.js';

/** The API options every remote command takes. */
export const apiOptions = {
  api: { type: 'string' },
  token: { type: 'string' },
} as const;

export const DEFAULT_API_URL = 'http://localhost:4000';

/** A refusal of the API (problem+json) or no answer at all, explained in one line. */
export class ApiError extends CliError {
  constructor(
    detail: string,
    readonly status?: number,
  ) {
    super(`error: ${detail}`, 1);
  }
}

export interface ApiClient {
  readonly baseUrl: string;
  call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T>;
}

/** Why fetch failed, from its cause (ECONNREFUSED, ENOTFOUND...) when it has one. */
export function unreachable(url: string, error: unknown): ApiError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return new ApiError(`cannot reach ${url} (${cause?.code ?? cause?.message ?? (error as Error).message})`);
}

async function problemOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const problem = JSON.parse(text) as { detail?: string; title?: string; errors?: { pointer?: string; message?: string }[] };
    const fields = (problem.errors ?? []).map((e) => `${e.pointer ?? ''}: ${e.message ?? ''}`).join('; ');
    const detail = problem.detail ?? problem.title ?? `HTTP ${response.status}`;
    return new ApiError(fields && !detail.includes(fields) ? `${detail} (${fields})` : detail, response.status);
  } catch {
    return new ApiError(`HTTP ${response.status} ${response.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`, response.status);
  }
}

/** The API client of --api (or TELLTALE_API_URL) with the bearer token of --token (or TELLTALE_TOKEN). */
export function apiClient(values: Values, env: NodeJS.ProcessEnv = process.env): ApiClient {
  const baseUrl = (optionalString(values, 'api') ?? env.TELLTALE_API_URL ?? DEFAULT_API_URL).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]/.test(baseUrl)) throw usageError(`--api must be an http(s) URL, got "${baseUrl}"`);
  const token = optionalString(values, 'token') ?? env.TELLTALE_TOKEN;
  if (!token) throw usageError('a token is required: --token TOKEN or TELLTALE_TOKEN (npm run token -- --tenant demo --scope telltale/data,telltale/read)');
  return {
    baseUrl,
    async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
      const url = `${baseUrl}/api/v1${path}`;
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      } catch (error) {
        throw unreachable(baseUrl, error);
      }
      if (!response.ok) throw await problemOf(response);
      return (await response.json()) as T;
    },
  };
}
