import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { apiHandler } from '../../../shared/http/apiHandler.js';
import { defineRoute } from '../../../shared/http/route.js';
import { NotFoundError } from '../../../shared/platform/errors.js';
import { claimsFor, httpEvent, lambdaContext } from '../../fixtures/lambda.js';

const route = defineRoute({
  method: 'POST',
  path: '/api/v1/things/{id}',
  operationId: 'makeThing',
  summary: 'test route',
  tag: 'test',
  scope: 'telltale/ingest',
  request: {
    path: z.object({ id: z.string().regex(/^[a-z]+$/) }),
    query: z.strictObject({ dryRun: z.stringbool().optional() }),
    body: z.strictObject({ name: z.string().min(1), size: z.number().int() }),
    maxBodyBytes: 200,
  },
  responses: {},
});

const handler = apiHandler(route, async ({ tenant, path, body, query }) => {
  if (path.id === 'missing') throw new NotFoundError('No thing "missing".');
  if (path.id === 'bug') throw new Error('secret internals: connection string xyz');
  return { status: 201, body: { tenant, id: path.id, dryRun: query.dryRun ?? false, ...body } };
});

const call = async (options: Parameters<typeof httpEvent>[0]) => {
  const response = await handler(
    httpEvent({ method: 'POST', path: '/api/v1/things/abc', pathParameters: { id: 'abc' }, claims: claimsFor('acme', 'telltale/ingest'), body: '{"name":"a","size":1}', ...options }),
    lambdaContext,
  );
  return { ...response, json: response.body ? JSON.parse(response.body) : undefined };
};

describe('the API middleware stack', () => {
  it('passes validated input and the tenant to the implementation', async () => {
    const response = await call({ query: { dryRun: 'true' } });

    expect(response.statusCode).toBe(201);
    expect(response.json).toEqual({ tenant: 'acme', id: 'abc', dryRun: true, name: 'a', size: 1 });
    expect(response.headers?.['content-type']).toBe('application/json');
  });

  it('echoes a sane x-correlation-id and replaces an unsafe one', async () => {
    const given = await call({ headers: { 'content-type': 'application/json', 'X-Correlation-Id': 'trace-42' } });
    const unsafe = await call({ headers: { 'content-type': 'application/json', 'x-correlation-id': 'bad id\n<script>' } });

    expect(given.headers?.['x-correlation-id']).toBe('trace-42');
    expect(unsafe.headers?.['x-correlation-id']).toBe('req-1');
  });

  it('answers 401 without verified claims', async () => {
    const response = await call({ claims: undefined });

    expect(response.statusCode).toBe(401);
    expect(response.headers?.['content-type']).toBe('application/problem+json');
    expect(response.json.type).toBe('urn:telltale:problem:unauthorized');
  });

  it('answers 403 when the scope is missing or the token names no tenant', async () => {
    const noScope = await call({ claims: claimsFor('acme', 'telltale/read') });
    const noTenant = await call({ claims: { sub: 'x', scope: 'telltale/ingest' } });
    const badTenant = await call({ claims: claimsFor('../other', 'telltale/ingest') });

    expect([noScope.statusCode, noTenant.statusCode, badTenant.statusCode]).toEqual([403, 403, 403]);
    expect(noScope.json.detail).toContain('telltale/ingest');
  });

  it('refuses malformed JSON, a wrong content type and an oversized body', async () => {
    const malformed = await call({ body: '{"name":' });
    const wrongType = await call({ body: '{"name":"a","size":1}', headers: { 'content-type': 'text/plain' } });
    const oversized = await call({ body: JSON.stringify({ name: 'x'.repeat(300), size: 1 }) });

    expect(malformed.statusCode).toBe(400);
    expect(malformed.json.errors).toEqual([{ pointer: 'body', message: 'Malformed JSON' }]);
    expect(wrongType.statusCode).toBe(415);
    expect(oversized.statusCode).toBe(413);
  });

  it('names every failing field: unknown fields, wrong types, bad path and query', async () => {
    const response = await call({
      body: JSON.stringify({ name: '', size: 'big', extra: 1 }),
    });
    const badPath = await call({ pathParameters: { id: '..%2F' } });
    const badQuery = await call({ query: { dryRun: 'perhaps' } });

    expect(response.statusCode).toBe(400);
    const pointers = (response.json.errors as { pointer: string }[]).map((e) => e.pointer).sort();
    expect(pointers).toEqual(['body', 'body.name', 'body.size']);
    expect(badPath.statusCode).toBe(400);
    expect(badPath.json.errors[0].pointer).toBe('path.id');
    expect(badQuery.statusCode).toBe(400);
    expect(badQuery.json.errors[0].pointer).toBe('query.dryRun');
  });

  it('maps typed errors to their status and hides the internals of bugs', async () => {
    const missing = await call({ pathParameters: { id: 'missing' } });
    const bug = await call({ pathParameters: { id: 'bug' } });

    expect(missing.statusCode).toBe(404);
    expect(missing.json.detail).toBe('No thing "missing".');
    expect(bug.statusCode).toBe(500);
    expect(bug.body).not.toContain('secret');
    expect(bug.json.correlationId).toBe('req-1');
  });
});

describe('security headers', () => {
  const publicRoute = defineRoute({ method: 'GET', path: '/api/v1/public', operationId: 'getPublic', summary: 'test', tag: 'test', scope: null, request: {}, responses: {} });
  const cached = apiHandler(publicRoute, async () => ({ status: 200, body: { ok: true }, headers: { 'cache-control': 'public, max-age=60' } }));
  const uncached = apiHandler(publicRoute, async () => ({ status: 200, text: 'a,b\n', headers: { 'content-type': 'text/csv' } }));
  const failing = apiHandler(publicRoute, async () => {
    throw new NotFoundError('nothing here');
  });
  const sneakyAuthenticated = apiHandler(route, async () => ({ status: 200, body: {}, headers: { 'cache-control': 'public, max-age=600' } }));
  const get = (h: typeof cached) => h(httpEvent({ path: '/api/v1/public' }), lambdaContext);

  it('every answer, success or problem, says nosniff', async () => {
    const answers = [await call({}), await call({ claims: undefined }), await call({ pathParameters: { id: 'bug' } }), await get(cached), await get(failing)];

    expect(answers.map((a) => a.headers?.['x-content-type-options'])).toEqual(Array(answers.length).fill('nosniff'));
  });

  it('authenticated answers and problems are no-store, whatever the implementation set', async () => {
    const answers = [await call({}), await call({ pathParameters: { id: 'missing' } }), await call({ claims: undefined }), await sneakyAuthenticated(httpEvent({ method: 'POST', path: '/api/v1/things/abc', pathParameters: { id: 'abc' }, claims: claimsFor('acme', 'telltale/ingest'), body: '{"name":"a","size":1}' }), lambdaContext), await get(failing)];

    expect(answers.map((a) => a.headers?.['cache-control'])).toEqual(Array(answers.length).fill('no-store'));
  });

  it('a public success keeps the cache-control its handler chose, else no-store', async () => {
    const kept = await get(cached);
    const defaulted = await get(uncached);

    expect(kept.headers?.['cache-control']).toBe('public, max-age=60');
    expect(defaulted.headers?.['cache-control']).toBe('no-store');
    expect(defaulted.headers?.['content-type']).toBe('text/csv');
  });
});

describe('problem details', () => {
  it('keep their standard members when an error carries extension members of the same names', async () => {
    const { toProblem } = await import('../../../shared/http/problem.js');
    const { ConflictError } = await import('../../../shared/platform/errors.js');
    const problem = toProblem(new ConflictError('Dataset is PENDING.', { status: 'PENDING', datasetStatus: 'PENDING' }), '/x', 'c-1');

    expect(problem).toMatchObject({ status: 409, type: 'urn:telltale:problem:conflict', datasetStatus: 'PENDING' });
  });
});
