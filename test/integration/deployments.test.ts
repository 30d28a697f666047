import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { PREDICT_POINTER_TTL_MS } from '../../shared/ml/registry/predictionCache.js';
import { expectProblem, useLocalCloud, type ApiCall } from './localCloudFixture.js';

const local = useLocalCloud();
const skab = readFileSync(new URL('../fixtures/data/skab-valve1-0.csv', import.meta.url), 'utf8');
const features = ['Accelerometer1RMS', 'Accelerometer2RMS', 'Current', 'Pressure', 'Temperature', 'Thermocouple', 'Voltage', 'Volume Flow RateRMS'];
const rows = [
  [0.0266, 0.0401, 1.33, 0.0547, 79.3, 26.0, 233, 32],
  [0.0266, 0.0401, 1.33, 0.0547, 79.3, 26.0, 233, 0],
];

interface Predicted {
  model: { id: string; version: number };
  deployment?: { group: string; revision: number; role: string };
  results: unknown[];
}

const json = (body: unknown): RequestInit => ({ method: 'POST', body: JSON.stringify(body) });

async function ok<T>(response: Response, status = 200): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

const deploy = async (call: ApiCall, body: Record<string, unknown>) => ok<Record<string, unknown>>(await call('/mlops/deploy', json({ group: 'pump-1', ...body })));
const predictFor = async (call: ApiCall, routingKey?: string) => ok<Predicted>(await call('/ml/predict', json({ group: 'pump-1', rows, ...(routingKey ? { routingKey } : {}) })));
/** Predict keeps a group's deployment for PREDICT_POINTER_TTL_MS: a change answers within it, not later. */
async function predictOnceAt(call: ApiCall, revision: number, routingKey?: string): Promise<Predicted> {
  const started = Date.now();
  for (;;) {
    const predicted = await predictFor(call, routingKey);
    if (predicted.deployment?.revision === revision || Date.now() - started > PREDICT_POINTER_TTL_MS + 1_000) return predicted;
    await sleep(100);
  }
}

describe('deployments (champion and challenger) on the local cloud', () => {
  it('promotes, routes predict to the champion or the challenger by routing key, rolls back, and keeps tenants apart', async () => {
    const call = await local.client('plant-d');
    await ok(await call('/datasets', json({ id: 'pump', name: 'pump', content: skab })), 201);
    expect((await local.settled(call, '/datasets/pump')).status).toBe('READY');
    for (const modelId of ['pca-a', 'pca-b']) await ok(await call('/ml/train', json({ modelId, datasetId: 'pump', detector: 'pca', features, trainRows: 400 })), 202);
    for (const modelId of ['pca-a', 'pca-b']) expect((await local.settled(call, `/ml/models/${modelId}`)).status).toBe('READY');

    // No deployment yet: predict by group and rollback are 404, and modelId with group is refused.
    await expectProblem(await call('/ml/predict', json({ group: 'pump-1', rows })), 404);
    await expectProblem(await call('/mlops/deploy', json({ group: 'pump-1', action: 'rollback' })), 404);
    await expectProblem(await call('/ml/predict', json({ group: 'pump-1', modelId: 'pca-a', rows })), 400);

    const promoted = await deploy(call, { action: 'promote', modelId: 'pca-a' });
    expect(promoted).toMatchObject({ group: 'pump-1', champion: { modelId: 'pca-a', version: 1 }, history: [], revision: 1 });
    const byChampion = await predictFor(call);
    expect(byChampion.model).toMatchObject({ id: 'pca-a', version: 1 });
    expect(byChampion.deployment).toEqual({ group: 'pump-1', revision: 1, role: 'champion' });
    expect(byChampion.results).toHaveLength(2);
    // Nothing to roll back to yet.
    await expectProblem(await call('/mlops/deploy', json({ group: 'pump-1', action: 'rollback' })), 409);

    await deploy(call, { action: 'set-challenger', modelId: 'pca-b', trafficShare: 0.5 });
    expect((await predictOnceAt(call, 2)).deployment?.revision).toBe(2);
    const keys = Array.from({ length: 24 }, (_, i) => `asset-7/hour-${i}`);
    const routed = await Promise.all(keys.map((key) => predictFor(call, key)));
    for (const r of routed) {
      expect(r.deployment).toMatchObject({ group: 'pump-1', revision: 2 });
      expect(r.model.id).toBe(r.deployment?.role === 'challenger' ? 'pca-b' : 'pca-a');
    }
    const challenged = routed.filter((r) => r.deployment?.role === 'challenger').length;
    expect(challenged).toBeGreaterThan(3);
    expect(challenged).toBeLessThan(21);
    // The same key goes to the same model.
    expect((await predictFor(call, keys[0])).deployment?.role).toBe(routed[0].deployment?.role);

    const challenger = await ok<Record<string, unknown>>(await call('/mlops/deployments/pump-1'));
    expect(challenger).toMatchObject({ challenger: { modelId: 'pca-b', version: 1, trafficShare: 0.5 }, revision: 2 });

    // The challenger wins: promoted, it stops challenging; then rolled back, pca-a answers again.
    expect(await deploy(call, { action: 'promote', modelId: 'pca-b', revision: 2 })).toMatchObject({ champion: { modelId: 'pca-b' }, history: [{ modelId: 'pca-a', version: 1 }], revision: 3 });
    await expectProblem(await call('/mlops/deploy', json({ group: 'pump-1', action: 'rollback', revision: 2 })), 409);
    const rolledBack = await deploy(call, { action: 'rollback', revision: 3 });
    expect(rolledBack).toMatchObject({ champion: { modelId: 'pca-a', version: 1 }, history: [], revision: 4 });
    expect(rolledBack.challenger).toBeUndefined();
    expect((await predictOnceAt(call, 4, keys[0])).deployment).toEqual({ group: 'pump-1', revision: 4, role: 'champion' });

    const other = await local.client('plant-e');
    await expectProblem(await other('/mlops/deployments/pump-1'), 404);
    await expectProblem(await other('/ml/predict', json({ group: 'pump-1', rows })), 404);
    await expectProblem(await other('/mlops/deploy', json({ group: 'pump-1', action: 'promote', modelId: 'pca-a' })), 404);
    const readOnly = await local.client('plant-d', ['telltale/read']);
    await expectProblem(await readOnly('/mlops/deploy', json({ group: 'pump-1', action: 'clear-challenger' })), 403);
  });
});
