import { describe, expect, it } from 'vitest';
import { encodeCursor } from '../../shared/aws/cursor.js';
import { expectProblem, useLocalCloud } from './localCloudFixture.js';

const local = useLocalCloud();

/**
 * Cursors a client could forge for its own tenant: well-formed JSON whose partition key is the
 * caller's, but not a key this API issued. DynamoDB refuses most of them with a ValidationException.
 */
const tampered = (tenant: string) => {
  const pk = `T#${tenant}`;
  return [
    { pk },
    { pk, sk: 'SENSOR#a', extra: 'x' },
    { pk, sk: '' },
    { pk, sk: 'ZZZ#outside-the-listing' },
    { pk, sk: 'SENSOR#a', gsi1pk: `${pk}#MODELS` },
    { pk, sk: 'MODEL#a', gsi1pk: `${pk}#MODELS`, gsi1sk: 'x', gsi2pk: `${pk}#TYPE#vibration` },
    { sk: 'SENSOR#a', other: 'y' },
  ].map((key) => encodeURIComponent(encodeCursor(key)!));
};

describe('pagination cursors tampered with by their own tenant', () => {
  it('are a 400 on every paginated route, never a 500', async () => {
    const call = await local.client('cursor-a');
    await call('/sensors', { method: 'POST', body: JSON.stringify({ id: 's-1', name: 'one', type: 'vibration', unit: 'mm/s', group: 'g1' }) });
    await call('/sensors', { method: 'POST', body: JSON.stringify({ id: 's-2', name: 'two', type: 'vibration', unit: 'mm/s', group: 'g1' }) });
    await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'd-1', name: 'one' }) });
    await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'd-2', name: 'two' }) });
    const routes = ['/sensors', '/sensors?group=g1', '/sensors?type=vibration', '/datasets', '/ml/models', '/mlops/models/m-1/versions'];
    for (const route of routes)
      for (const cursor of tampered('cursor-a')) {
        const response = await call(`${route}${route.includes('?') ? '&' : '?'}cursor=${cursor}`);
        const body = await expectProblem(response, 400);
        expect(body.type, `${route} ${cursor}`).toBe('urn:telltale:problem:validation-failed');
      }
  });

  it('still page through a listing with the cursors the API issued', async () => {
    const call = await local.client('cursor-b');
    for (const id of ['a', 'b', 'c']) {
      await call('/sensors', { method: 'POST', body: JSON.stringify({ id, name: id, type: 'vibration', unit: 'mm/s', group: 'g' }) });
      await call('/datasets', { method: 'POST', body: JSON.stringify({ id, name: id }) });
    }
    for (const route of ['/sensors?limit=2', '/sensors?limit=2&group=g', '/sensors?limit=2&type=vibration', '/datasets?limit=2']) {
      const first = (await (await call(route)).json()) as { items: unknown[]; nextCursor: string };
      const second = (await (await call(`${route}&cursor=${encodeURIComponent(first.nextCursor)}`)).json()) as { items: unknown[] };
      expect(first.items.length + second.items.length, route).toBe(3);
    }
  });
});
