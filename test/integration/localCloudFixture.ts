import { afterAll, beforeAll, expect } from 'vitest';
import { scopes } from '../../shared/gateway/scopes.js';
import { startLocalCloud, type LocalCloud, type LocalCloudOptions } from '../../local/cloud.js';

export const allScopes = Object.values(scopes);

export type ApiCall = (path: string, init?: RequestInit) => Promise<Response>;

export interface LocalCloudFixture {
  cloud: LocalCloud;
  /** Calls the API as `tenant` (all scopes unless told); a request with a body is sent as JSON. */
  client(tenant: string, scopes?: readonly string[]): Promise<ApiCall>;
  /**
   * Polls `path` until its status is READY or FAILED; work runs in events the cloud drains, and an
   * S3 event reaches the bus a moment after the PUT that caused it. The 20 s budget stays under the
   * 30 s test timeout, so a stuck run fails with its status rather than a bare timeout.
   */
  settled(call: ApiCall, path: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** Starts one in-memory local cloud on a free port for the test file, stopped after it. */
export function useLocalCloud(options: LocalCloudOptions = {}): LocalCloudFixture {
  const fixture: LocalCloudFixture = {
    cloud: undefined as unknown as LocalCloud, // set in beforeAll, before any test reads it
    async client(tenant, scopes = allScopes) {
      const token = await fixture.cloud.mintToken({ tenant, scopes });
      return (path, init = {}) =>
        fetch(`${fixture.cloud.url}/api/v1${path}`, {
          ...init,
          headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers as Record<string, string>) },
        });
    },
    async settled(call, path, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        await fixture.cloud.drain(timeoutMs);
        const body = (await (await call(path)).json()) as Record<string, unknown>;
        if (body.status === 'READY' || body.status === 'FAILED') return body;
        if (Date.now() > until) throw new Error(`${path} still ${String(body.status)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
  beforeAll(async () => {
    fixture.cloud = await startLocalCloud({ memory: true, keys: 'memory', port: 0, timeScale: 0.001, onProblem: () => undefined, ...options });
  });
  afterAll(async () => {
    await fixture.cloud?.stop();
  });
  return fixture;
}

/** Asserts an RFC 9457 problem with the correlation id header; returns its body. */
export async function expectProblem(response: Response, status: number): Promise<Record<string, unknown>> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const correlationId = response.headers.get('x-correlation-id');
  expect(correlationId).toBeTruthy();
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(body).toMatchObject({ status, type: expect.stringMatching(/^urn:telltale:problem:/), title: expect.any(String), detail: expect.any(String) });
  return body;
}
