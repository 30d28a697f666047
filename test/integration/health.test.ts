import { describe, expect, it } from 'vitest';
import { catalog } from '../../shared/catalog.js';
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

  it('deep health probes DynamoDB and S3', async () => {
    const response = await api('/monitoring/health?deep=true');
    expect(response.status).toBe(200);
    const report = (await response.json()) as { dependencies: { name: string; status: string; latencyMs: number }[] };
    expect(report.dependencies.map((d) => d.name).sort()).toEqual(['dynamodb:telltale-local-sensors', 's3:telltale-local-datasets']);
    expect(report.dependencies.every((d) => d.status === 'ok' && d.latencyMs >= 0)).toBe(true);
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
    // Shallow health does not touch dependencies.
    expect((await api('/monitoring/health')).status).toBe(200);
  });
});
