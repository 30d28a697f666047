import { describe, expect, it } from 'vitest';
import { generateSigningKeys } from '../../local/tokens.js';
import { allScopes, expectProblem, useLocalCloud } from './localCloudFixture.js';

const local = useLocalCloud();
const sensorsUrl = () => `${local.cloud.url}/api/v1/sensors`;
const withToken = (token: string, init: RequestInit = {}) => ({ ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } });
const newSensor = JSON.stringify({ id: 'auth-1', name: 'Auth test', type: 'flow', unit: 'l/s' });

describe('the local gateway authorises like the HTTP API JWT authorizer', () => {
  it('no token: 401 problem with www-authenticate', async () => {
    const response = await fetch(sensorsUrl());
    await expectProblem(response, 401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('a non-bearer authorization header: 401', async () => {
    await expectProblem(await fetch(sensorsUrl(), { headers: { authorization: 'Basic dXNlcjpwYXNz' } }), 401);
  });

  it('garbage instead of a JWT: 401', async () => {
    await expectProblem(await fetch(sensorsUrl(), withToken('not.a.jwt')), 401);
  });

  it('a token signed with another key: 401 invalid_token', async () => {
    const forged = await local.cloud.mintToken({ tenant: 'acme', scopes: allScopes, keys: await generateSigningKeys() });
    const response = await fetch(sensorsUrl(), withToken(forged));
    const problem = await expectProblem(response, 401);
    expect(problem.detail).toMatch(/signature/);
    expect(response.headers.get('www-authenticate')).toMatch(/invalid_token/);
  });

  it('a tampered payload: 401', async () => {
    const token = await local.cloud.mintToken({ tenant: 'acme', scopes: ['telltale/read'] });
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const tampered = Buffer.from(JSON.stringify({ ...claims, tenant: 'victim' })).toString('base64url');
    await expectProblem(await fetch(sensorsUrl(), withToken(`${header}.${tampered}.${signature}`)), 401);
  });

  it('an expired token: 401', async () => {
    const expired = await local.cloud.mintToken({ tenant: 'acme', scopes: allScopes, ttlSeconds: -60 });
    expect((await expectProblem(await fetch(sensorsUrl(), withToken(expired)), 401)).detail).toMatch(/expired/);
  });

  it('a token not yet valid (nbf): 401', async () => {
    const early = await local.cloud.mintToken({ tenant: 'acme', scopes: allScopes, notBeforeSeconds: 600 });
    await expectProblem(await fetch(sensorsUrl(), withToken(early)), 401);
  });

  it('the wrong issuer or audience: 401', async () => {
    await expectProblem(await fetch(sensorsUrl(), withToken(await local.cloud.mintToken({ tenant: 'acme', scopes: allScopes, issuer: 'someone-else' }))), 401);
    await expectProblem(await fetch(sensorsUrl(), withToken(await local.cloud.mintToken({ tenant: 'acme', scopes: allScopes, audience: 'another-api' }))), 401);
  });

  it('a token without the route scope: 403 insufficient_scope', async () => {
    const readOnly = await local.cloud.mintToken({ tenant: 'acme', scopes: ['telltale/read'] });
    const response = await fetch(sensorsUrl(), withToken(readOnly, { method: 'POST', body: newSensor, headers: { 'content-type': 'application/json' } }));
    await expectProblem(response, 403);
    expect(response.headers.get('www-authenticate')).toMatch(/insufficient_scope/);
    // The same token reads fine.
    expect((await fetch(sensorsUrl(), withToken(readOnly))).status).toBe(200);
  });

  it('a token without a tenant, or with a malformed one: 403 from the handler', async () => {
    await expectProblem(await fetch(sensorsUrl(), withToken(await local.cloud.mintToken({ scopes: allScopes }))), 403);
    await expectProblem(await fetch(sensorsUrl(), withToken(await local.cloud.mintToken({ tenant: 'T#other', scopes: allScopes }))), 403);
  });

  it("a valid token of the wrong tenant cannot read another tenant's sensor", async () => {
    const owner = await local.cloud.mintToken({ tenant: 'owner-inc', scopes: allScopes });
    expect((await fetch(sensorsUrl(), withToken(owner, { method: 'POST', body: newSensor, headers: { 'content-type': 'application/json' } }))).status).toBe(201);
    const intruder = await local.cloud.mintToken({ tenant: 'intruder-inc', scopes: allScopes });
    await expectProblem(await fetch(`${sensorsUrl()}/auth-1`, withToken(intruder)), 404);
    expect((await fetch(`${sensorsUrl()}/auth-1`, withToken(owner))).status).toBe(200);
  });

  it('public routes need no token', async () => {
    expect((await fetch(`${local.cloud.url}/api/v1/monitoring/health`)).status).toBe(200);
    expect((await fetch(`${local.cloud.url}/api/v1/openapi.json`)).status).toBe(200);
  });

  it('unknown routes are 404 and wrong methods 405, as problem+json', async () => {
    await expectProblem(await fetch(`${local.cloud.url}/api/v1/nope`), 404);
    await expectProblem(await fetch(`${local.cloud.url}/api/v1/sensors/a/b/c`), 404);
    await expectProblem(await fetch(`${local.cloud.url}/api/v2/sensors`), 404);
    const wrongMethod = await fetch(`${local.cloud.url}/api/v1/sensors/x`, { method: 'DELETE' });
    await expectProblem(wrongMethod, 405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
  });

  it('serves the JWKS of the local key', async () => {
    const jwks = (await (await fetch(`${local.cloud.url}/.well-known/jwks.json`)).json()) as { keys: { kty: string; d?: string }[] };
    expect(jwks.keys[0].kty).toBe('RSA');
    expect(jwks.keys[0].d).toBeUndefined();
  });
});
