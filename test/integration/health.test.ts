import { describe, expect, it } from 'vitest';
import { catalog } from '../../shared/catalog.js';
import { scopes } from '../../shared/gateway/scopes.js';
import { expectProblem, useLocalCloud } from './localCloudFixture.js';

const local = useLocalCloud();
const api = (path: string) => fetch(`${local.cloud.url}/api/v1${path}`);

describe('health', () => {
  it('shallow health answers ok with the version', async () => {
    const response = await api('/monitoring/health');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-correlation-id')).toBeTruthy();
    expect(await response.json()).toMatchObject({ status: 'ok', version: expect.any(String), stage: 'local' });
  });

  it('deep health probes DynamoDB and S3 and answers statuses and latencies, never a physical name', async () => {
    const response = await api('/monitoring/health?deep=true');
    expect(response.status).toBe(200);
    const text = await response.text();
    const report = JSON.parse(text) as { dependencies: Record<string, unknown>[] };
    expect(report.dependencies.map((d) => d.name).sort()).toEqual(['dynamodb:sensors', 's3:datasets']);
    for (const dependency of report.dependencies) expect(dependency).toEqual({ name: expect.any(String), status: 'ok', latencyMs: expect.any(Number) });
    expect(text).not.toContain('telltale-local');
  });

  it('the dependencies with their physical names need a token with the admin scope', async () => {
    const path = `${local.cloud.url}/api/v1/monitoring/health/dependencies`;
    await expectProblem(await fetch(path), 401);
    const reader = await local.cloud.mintToken({ tenant: 'ops', scopes: [scopes.read, scopes.data, scopes.models, scopes.ingest] });
    await expectProblem(await fetch(path, { headers: { authorization: `Bearer ${reader}` } }), 403);

    const admin = await local.cloud.mintToken({ tenant: 'ops', scopes: [scopes.admin] });
    const response = await fetch(path, { headers: { authorization: `Bearer ${admin}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const report = (await response.json()) as { status: string; dependencies: { name: string; resource: string; status: string }[] };
    expect(report.status).toBe('ok');
    expect(report.dependencies.map((d) => [d.name, d.resource, d.status]).sort()).toEqual([
      ['dynamodb:sensors', 'telltale-local-sensors', 'ok'],
      ['s3:datasets', 'telltale-local-datasets', 'ok'],
    ]);
  });

  it('an unknown query parameter is a 400', async () => {
    await expectProblem(await api('/monitoring/health?verbose=1'), 400);
    await expectProblem(await api('/monitoring/health?deep=maybe'), 400);
  });
});

describe('the API document', () => {
  it('is an OpenAPI 3.1 document with every catalog http route', async () => {
    const response = await api('/openapi.json');
    expect(response.status).toBe(200);
    const document = (await response.json()) as { openapi: string; info: { title: string; version: string }; paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>> };
    expect(document.openapi).toMatch(/^3\.1\./);
    expect(document.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    const routes = catalog.flatMap((f) => (f.trigger.kind === 'http' ? [f.trigger.route] : []));
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) {
      const operation = document.paths[route.path]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${route.path}`).toBeDefined();
      expect(operation.operationId).toBe(route.operationId);
      expect(Object.keys(operation.responses).length).toBeGreaterThan(0);
    }
  });

  it('has a readable reference page at /docs', async () => {
    const response = await fetch(`${local.cloud.url}/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    const html = await response.text();
    expect(html).toContain('/api/v1/sensors/{id}');
    expect(html).not.toMatch(/<script/);
  });
});

// Last: it takes S3 down for the rest of this file.
describe('deep health with a dependency down', () => {
  it('answers 503 and names the failing dependency', async () => {
    await local.cloud.stopService('s3');
    const response = await api('/monitoring/health?deep=true');
    expect(response.status).toBe(503);
    const report = (await response.json()) as { status: string; dependencies: { name: string; status: string }[] };
    expect(report.status).toBe('degraded');
    expect(report.dependencies.find((d) => d.name.startsWith('s3:'))?.status).toBe('down');
    expect(report.dependencies.find((d) => d.name.startsWith('dynamodb:'))?.status).toBe('ok');
    expect(report.dependencies.find((d) => d.name.startsWith('s3:'))).not.toHaveProperty('error');
    // Operators see which resource failed, and how.
    const admin = await local.cloud.mintToken({ tenant: 'ops', scopes: [scopes.admin] });
    const detail = await fetch(`${local.cloud.url}/api/v1/monitoring/health/dependencies`, { headers: { authorization: `Bearer ${admin}` } });
    expect(detail.status).toBe(503);
    const detailed = (await detail.json()) as { dependencies: { name: string; resource: string; status: string; error?: string }[] };
    expect(detailed.dependencies.find((d) => d.name.startsWith('s3:'))).toMatchObject({ resource: 'telltale-local-datasets', status: 'down', error: expect.any(String) });
    // Shallow health does not touch dependencies.
    expect((await api('/monitoring/health')).status).toBe(200);
  });
});
