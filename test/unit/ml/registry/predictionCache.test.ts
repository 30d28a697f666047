import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../../../shared/mlops/deployment.js';
import type { ModelRecord } from '../../../../shared/ml/registry/model.js';
import { cachedDeployments, cachedModelRecords, PREDICT_POINTER_TTL_MS } from '../../../../shared/ml/registry/predictionCache.js';

const record = (id: string, version: number, status: ModelRecord['status']) => ({ id, version, status }) as ModelRecord;
const deployment = (group: string, revision: number) => ({ group, revision, champion: { modelId: 'm', version: 1 } }) as unknown as Deployment;

/** A repository of tenant/id items whose values the test changes, recording every read. */
function changing<V>() {
  const items = new Map<string, V>();
  const reads: string[] = [];
  const get = async (tenant: string, id: string) => {
    reads.push(`${tenant}/${id}`);
    return items.get(`${tenant}/${id}`);
  };
  return { items, reads, get };
}

describe('the model records predict reads', () => {
  it('keeps a READY current version for the TTL, then sees a newer one', async () => {
    let clock = 0;
    const models = changing<ModelRecord>();
    models.items.set('t/m', record('m', 1, 'READY'));
    const cached = cachedModelRecords({ get: models.get, getVersion: async () => undefined }, { now: () => clock });
    expect((await cached.get('t', 'm'))?.version).toBe(1);
    models.items.set('t/m', record('m', 2, 'READY'));
    clock = PREDICT_POINTER_TTL_MS - 1;
    expect((await cached.get('t', 'm'))?.version).toBe(1);
    clock = PREDICT_POINTER_TTL_MS + 1;
    expect((await cached.get('t', 'm'))?.version).toBe(2);
    expect(models.reads).toEqual(['t/m', 't/m']);
  });

  it('reads a model that is not READY (or not there) again at once, and keeps tenants apart', async () => {
    const models = changing<ModelRecord>();
    models.items.set('t/m', record('m', 1, 'TRAINING'));
    const cached = cachedModelRecords({ get: models.get, getVersion: async () => undefined });
    expect((await cached.get('t', 'm'))?.status).toBe('TRAINING');
    models.items.set('t/m', record('m', 1, 'READY'));
    expect((await cached.get('t', 'm'))?.status).toBe('READY');
    expect(await cached.get('other', 'm')).toBeUndefined();
    expect(await cached.get('other', 'm')).toBeUndefined();
    expect(models.reads).toEqual(['t/m', 't/m', 'other/m', 'other/m']);
  });

  it('holds a bounded number of records', async () => {
    const models = changing<ModelRecord>();
    for (let i = 0; i < 5; i++) models.items.set(`t/m${i}`, record(`m${i}`, 1, 'READY'));
    const cached = cachedModelRecords({ get: models.get, getVersion: async () => undefined }, { maxEntries: 2 });
    for (let i = 0; i < 5; i++) await cached.get('t', `m${i}`);
    await cached.get('t', 'm4');
    await cached.get('t', 'm0');
    expect(models.reads).toEqual(['t/m0', 't/m1', 't/m2', 't/m3', 't/m4', 't/m0']);
  });
});

describe('the deployments predict reads', () => {
  it('keeps a deployment for the TTL and never keeps "no deployment"', async () => {
    let clock = 0;
    const deployments = changing<Deployment>();
    const cached = cachedDeployments({ get: deployments.get }, { now: () => clock });
    expect(await cached.get('t', 'g')).toBeUndefined();
    deployments.items.set('t/g', deployment('g', 1));
    expect((await cached.get('t', 'g'))?.revision).toBe(1);
    deployments.items.set('t/g', deployment('g', 2));
    expect((await cached.get('t', 'g'))?.revision).toBe(1);
    expect(await cached.get('other', 'g')).toBeUndefined();
    clock = PREDICT_POINTER_TTL_MS + 1;
    expect((await cached.get('t', 'g'))?.revision).toBe(2);
    expect(deployments.reads).toEqual(['t/g', 't/g', 'other/g', 't/g']);
  });
});
