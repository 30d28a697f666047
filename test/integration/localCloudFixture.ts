import { afterAll, beforeAll, expect } from 'vitest';
import { scopes } from '../../shared/gateway/scopes.js';
import { startLocalCloud, type LocalCloud, type LocalCloudOptions } from '../../local/cloud.js';

export const allScopes = Object.values(scopes);

/** Starts one in-memory local cloud on a free port for the test file, stopped after it. */
export function useLocalCloud(options: LocalCloudOptions = {}) {
  const state: { cloud: LocalCloud } = {} as { cloud: LocalCloud };
  beforeAll(async () => {
    state.cloud = await startLocalCloud({ memory: true, keys: 'memory', port: 0, timeScale: 0.001, onProblem: () => undefined, ...options });
  });
  afterAll(async () => {
    await state.cloud?.stop();
  });
  return state;
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
