import { describe, expect, it } from 'vitest';
import { handler } from '../../../../functions/ml/detectDrift.js';
import type { DriftReport } from '../../../../shared/ml/drift/index.js';
import { summariseReference } from '../../../../shared/ml/drift/index.js';
import { createGaussian, createRng } from '../../../../shared/ml/multivariate/rng.js';
import { post } from './requests.js';

const drift = (body: unknown, options: Parameters<typeof post>[3] = {}) => post<DriftReport>(handler, '/api/v1/ml/drift', body, options);

function table(rows: number, seed: number, shiftB = 0) {
  const g = createGaussian(createRng(seed));
  return { features: ['a', 'b', 'c'], rows: Array.from({ length: rows }, () => [g(), 5 + g() + shiftB, 100 + 10 * g()]) };
}

describe('POST /ml/drift', () => {
  const reference = table(800, 1);
  const shifted = table(300, 2, 1);

  it('flags the shifted feature and only it', async () => {
    const reply = await drift({ reference, current: shifted });

    expect(reply.status).toBe(200);
    expect(reply.json.verdict).toBe('significant');
    expect(reply.json.driftedFeatures).toEqual(['b']);
    expect(reply.json.features.find((f) => f.feature === 'b')?.meanShiftSd).toBeGreaterThan(0.7);
  });

  it('takes a stored reference summary and matches features by name', async () => {
    const referenceSummary = summariseReference(reference.rows, reference.features);
    const reordered = { features: ['c', 'b', 'a'], rows: shifted.rows.map(([a, b, c]) => [c, b, a]) };

    const reply = await drift({ referenceSummary, current: reordered });

    expect(reply.status).toBe(200);
    expect(reply.json.driftedFeatures).toEqual(['b']);
  });

  it('sees no drift in fresh data from the same process', async () => {
    const reply = await drift({ reference, current: table(300, 3) });

    expect(reply.json.verdict).not.toBe('significant');
  });

  it.each([
    ['a feature of the reference missing from current', { reference, current: { features: ['a', 'b'], rows: shifted.rows.map((r) => r.slice(0, 2)) } }, 400, 'missing_feature'],
    ['too few current rows', { reference, current: { ...shifted, rows: shifted.rows.slice(0, 3) } }, 422, 'series_too_short'],
    ['a single reference row', { reference: { ...reference, rows: reference.rows.slice(0, 1) }, current: shifted }, 422, 'series_too_short'],
  ])('%s: %i', async (_what, body, status, code) => {
    const reply = await drift(body);

    expect(reply.status).toBe(status);
    expect(reply.json.code).toBe(code);
  });

  it.each([
    ['both reference and summary', { reference, referenceSummary: summariseReference(reference.rows, reference.features), current: shifted }, 'body'],
    ['no reference at all', { current: shifted }, 'body'],
    ['duplicate feature names', { reference, current: { features: ['a', 'a', 'c'], rows: shifted.rows } }, 'body.current.features'],
    ['a string value', { reference, current: { ...shifted, rows: [['1', 2, 3], ...shifted.rows] } }, 'body.current.rows.0.0'],
  ])('%s: 400', async (_what, body, pointer) => {
    const reply = await drift(body);

    expect(reply.status).toBe(400);
    expect(reply.json.errors?.map((e) => e.pointer)).toContain(pointer);
  });
});
