import { describe, expect, it } from 'vitest';
import { httpFunctions } from '../../shared/catalog.js';
import { scopes } from '../../shared/gateway/scopes.js';
import { platformEnv } from '../../shared/platform/config.js';
import { expectProblem, useLocalCloud } from './localCloudFixture.js';

const local = useLocalCloud();
const routes = httpFunctions().map(({ route }) => route);
const defaultLimit = platformEnv.parse({}).MAX_BODY_BYTES;

/** A concrete path for a route: every `{param}` filled with a valid id. */
const pathOf = (template: string) => template.replace(/\{[^}]+\}/g, 'x1');
/** A scope the route does not need, for the 403 check. */
const otherScope = (needed: string) => Object.values(scopes).find((s) => s !== needed)!;

describe('every route of the catalog refuses bad requests with the right problem', () => {
  for (const route of routes.filter((r) => r.scope !== null)) {
    const name = `${route.method} ${route.path}`;

    it(`${name}: 401 without a token, 401 with a forged one, 403 without its scope`, async () => {
      const url = `${local.cloud.url}${pathOf(route.path)}`;
      const init = { method: route.method, headers: { 'content-type': 'application/json' }, ...(route.request.body ? { body: '{}' } : {}) };
      await expectProblem(await fetch(url, init), 401);
      const token = await local.cloud.mintToken({ tenant: 'routes', scopes: [otherScope(route.scope!)] });
      await expectProblem(await fetch(url, { ...init, headers: { ...init.headers, authorization: `Bearer ${token.slice(0, -4)}AAAA` } }), 401);
      await expectProblem(await fetch(url, { ...init, headers: { ...init.headers, authorization: `Bearer ${token}` } }), 403);
    });

    it(`${name}: its answer says nosniff and may not be stored by a cache`, async () => {
      const token = await local.cloud.mintToken({ tenant: 'routes', scopes: [route.scope!] });
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      // An empty body or an unknown id: whatever the status, the handler answered.
      const response = await fetch(`${local.cloud.url}${pathOf(route.path)}`, { method: route.method, headers, ...(route.request.body ? { body: '{}' } : {}) });
      await response.arrayBuffer();
      expect(response.headers.get('x-correlation-id')).toBeTruthy();
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('cache-control')).toBe('no-store');
    });

    if (!route.request.body) continue;
    it(`${name}: 400 for malformed JSON and for unknown fields, 415 for another media type, 413 beyond its limit`, async () => {
      const token = await local.cloud.mintToken({ tenant: 'routes', scopes: [route.scope!] });
      const url = `${local.cloud.url}${pathOf(route.path)}`;
      const send = (body: string, contentType = 'application/json') =>
        fetch(url, { method: route.method, headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body });

      await expectProblem(await send('{"a":'), 400);
      await expectProblem(await send(JSON.stringify({ surelyNotAField: 1 })), 400);
      await expectProblem(await send('a,b\n1,2\n', 'text/csv'), 415);
      const limit = route.request.maxBodyBytes ?? defaultLimit;
      await expectProblem(await send(JSON.stringify({ padding: 'x'.repeat(limit) })), 413);
    });
  }

  it('covers every route that needs a token', () => {
    expect(routes.filter((r) => r.scope !== null).length).toBeGreaterThan(15);
  });
});
