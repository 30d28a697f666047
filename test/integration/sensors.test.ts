import { describe, expect, it } from 'vitest';
import { allScopes, expectProblem, useLocalCloud } from './localCloudFixture.js';

const local = useLocalCloud();

const sensor = (id: string, extra: Record<string, unknown> = {}) => ({ id, name: `Sensor ${id}`, type: 'vibration', unit: 'mm/s', ...extra });

describe('sensor registry over the local API', () => {
  it('registers a sensor and fetches it back', async () => {
    const call = await local.client('flow-a');
    const created = await call('/sensors', { method: 'POST', body: JSON.stringify(sensor('pump-7', { group: 'line-1', expectedRange: { min: 0, max: 10 }, tags: { site: 'a' } })) });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/api/v1/sensors/pump-7');
    expect(created.headers.get('x-correlation-id')).toBeTruthy();
    const body = await created.json();
    expect(body).toMatchObject({ id: 'pump-7', group: 'line-1', createdAt: expect.any(String) });

    const fetched = await call('/sensors/pump-7');
    expect(fetched.status).toBe(200);
    expect(await fetched.json()).toEqual(body);
  });

  it('echoes a caller-given correlation id', async () => {
    const call = await local.client('flow-a');
    const response = await call('/sensors?limit=1', { headers: { 'x-correlation-id': 'trace-123' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-correlation-id')).toBe('trace-123');
  });

  it('refuses a duplicate id with 409 and keeps the first sensor', async () => {
    const call = await local.client('flow-b');
    expect((await call('/sensors', { method: 'POST', body: JSON.stringify(sensor('dup-1')) })).status).toBe(201);
    await expectProblem(await call('/sensors', { method: 'POST', body: JSON.stringify(sensor('dup-1', { name: 'Other' })) }), 409);
    expect(await (await call('/sensors/dup-1')).json()).toMatchObject({ name: 'Sensor dup-1' });
  });

  it('lists with cursor paging and filters by group and type', async () => {
    const call = await local.client('flow-c');
    const sensors = [
      ...Array.from({ length: 5 }, (_, i) => sensor(`g1-vib-${i}`, { group: 'g1' })),
      sensor('g1-temp', { group: 'g1', type: 'temperature', unit: 'degC' }),
      sensor('g2-temp', { group: 'g2', type: 'temperature', unit: 'degC' }),
    ];
    for (const s of sensors) expect((await call('/sensors', { method: 'POST', body: JSON.stringify(s) })).status).toBe(201);

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const response = await call(`/sensors?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(response.status).toBe(200);
      const page = (await response.json()) as { items: { id: string }[]; nextCursor?: string };
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((s) => s.id));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(seen.sort()).toEqual(sensors.map((s) => s.id).sort());
    expect(pages).toBeGreaterThanOrEqual(3);

    const ids = async (query: string) => ((await (await call(`/sensors?${query}`)).json()) as { items: { id: string }[] }).items.map((s) => s.id).sort();
    expect(await ids('group=g1')).toEqual([...Array.from({ length: 5 }, (_, i) => `g1-vib-${i}`), 'g1-temp'].sort());
    expect(await ids('type=temperature')).toEqual(['g1-temp', 'g2-temp']);
    expect(await ids('group=g1&type=temperature')).toEqual(['g1-temp']);
  });

  it('keeps tenants apart: another tenant sees neither the sensor nor it in lists', async () => {
    const owner = await local.client('owner-co');
    const other = await local.client('other-co');
    expect((await owner('/sensors', { method: 'POST', body: JSON.stringify(sensor('secret-1')) })).status).toBe(201);
    const problem = await expectProblem(await other('/sensors/secret-1'), 404);
    expect(problem.type).toBe('urn:telltale:problem:not-found');
    expect(((await (await other('/sensors')).json()) as { items: unknown[] }).items).toEqual([]);
    // The other tenant may register the same id: keys are per tenant.
    expect((await other('/sensors', { method: 'POST', body: JSON.stringify(sensor('secret-1')) })).status).toBe(201);
  });

  it('serves reads from the per-container cache without crossing tenants or hiding a sensor registered since', async () => {
    const owner = await local.client('cache-owner');
    const other = await local.client('cache-other');
    expect((await owner('/sensors', { method: 'POST', body: JSON.stringify(sensor('cached-1', { name: 'Owner pump' })) })).status).toBe(201);
    // Read twice: the second answer comes from the cache.
    for (let i = 0; i < 2; i++) expect(await (await owner('/sensors/cached-1')).json()).toMatchObject({ name: 'Owner pump' });
    await expectProblem(await other('/sensors/cached-1'), 404);
    // The other tenant's "unknown" is not kept: once it registers the same id, it reads its own sensor at once.
    expect((await other('/sensors', { method: 'POST', body: JSON.stringify(sensor('cached-1', { name: 'Other pump' })) })).status).toBe(201);
    expect(await (await other('/sensors/cached-1')).json()).toMatchObject({ name: 'Other pump' });
    expect(await (await owner('/sensors/cached-1')).json()).toMatchObject({ name: 'Owner pump' });
  });

  it('refuses a cursor forged for another tenant', async () => {
    const call = await local.client('flow-d');
    const forged = Buffer.from(JSON.stringify({ pk: 'T#owner-co', sk: 'SENSOR#secret-1' })).toString('base64url');
    await expectProblem(await call(`/sensors?cursor=${forged}`), 400);
  });

  it('answers 404 for an unknown id', async () => {
    const call = await local.client('flow-e');
    await expectProblem(await call('/sensors/no-such-sensor'), 404);
  });
});

describe('bad input on the sensor routes', () => {
  const post = async (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) => {
    const token = await local.cloud.mintToken({ tenant: 'bad-input', scopes: allScopes });
    return fetch(`${local.cloud.url}/api/v1/sensors`, { method: 'POST', headers: { authorization: `Bearer ${token}`, ...headers }, body });
  };

  it('malformed JSON is a 400', async () => {
    const problem = await expectProblem(await post('{"id": "x",'), 400);
    expect(problem.detail).toMatch(/not valid JSON/);
  });

  it('a wrong content type is a 415', async () => {
    await expectProblem(await post(JSON.stringify(sensor('ct-1')), { 'content-type': 'text/plain' }), 415);
  });

  it('a missing body is a 400', async () => {
    await expectProblem(await post(''), 400);
  });

  it('a body over the route limit is a 413', async () => {
    await expectProblem(await post(JSON.stringify(sensor('big-1', { name: 'x'.repeat(20_000) }))), 413);
  });

  it("a body over the gateway's 10 MB limit is a 413 before the handler runs", async () => {
    await expectProblem(await post(`"${'x'.repeat(10 * 1024 * 1024 + 10)}"`), 413);
  });

  it('unknown fields are a 400 that names them', async () => {
    const problem = await expectProblem(await post(JSON.stringify(sensor('uf-1', { colour: 'red' }))), 400);
    expect(JSON.stringify(problem.errors)).toMatch(/colour|Unrecognized/);
  });

  it('wrong types are a 400 with each failing field', async () => {
    const problem = await expectProblem(await post(JSON.stringify({ id: 42, name: '', type: 'laser', unit: 'x', expectedRange: { min: 5, max: 1 } })), 400);
    const pointers = (problem.errors as { pointer: string }[]).map((e) => e.pointer);
    expect(pointers).toEqual(expect.arrayContaining(['body.id', 'body.name', 'body.type']));
  });

  it('a JSON array or scalar instead of an object is a 400', async () => {
    await expectProblem(await post('[1,2]'), 400);
    await expectProblem(await post('"just a string"'), 400);
  });

  it('ids with path tricks are refused, never a 500', async () => {
    const token = await local.cloud.mintToken({ tenant: 'bad-input', scopes: allScopes });
    const get = (raw: string) => fetch(`${local.cloud.url}/api/v1/sensors/${raw}`, { headers: { authorization: `Bearer ${token}` } });
    for (const raw of ['..%2F..%2Fetc%2Fpasswd', 'a%2Fb', '..', '%2e%2e', '.hidden', 'x'.repeat(129), 'a%20b', '%00', '%E0%A4%A']) {
      const response = await get(raw);
      expect(response.status, raw).toBeGreaterThanOrEqual(400);
      expect(response.status, raw).toBeLessThan(500);
      await expectProblem(response, response.status);
    }
    // A registered id with a dot-dot is refused at registration too.
    await expectProblem(await post(JSON.stringify(sensor('a..b'))), 400);
    await expectProblem(await post(JSON.stringify(sensor('x'.repeat(2_000)))), 400);
  });

  it('bad query parameters are a 400', async () => {
    const token = await local.cloud.mintToken({ tenant: 'bad-input', scopes: allScopes });
    for (const query of ['limit=0', 'limit=abc', 'limit=1000', 'type=laser', 'colour=red', 'cursor=%%%']) {
      await expectProblem(await fetch(`${local.cloud.url}/api/v1/sensors?${query}`, { headers: { authorization: `Bearer ${token}` } }), 400);
    }
  });
});
