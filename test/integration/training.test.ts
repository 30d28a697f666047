import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectProblem, useLocalCloud } from './localCloudFixture.js';

const local = useLocalCloud();
const skab = readFileSync(new URL('../fixtures/data/skab-valve1-0.csv', import.meta.url), 'utf8');
const features = ['Accelerometer1RMS', 'Accelerometer2RMS', 'Current', 'Pressure', 'Temperature', 'Thermocouple', 'Voltage', 'Volume Flow RateRMS'];

describe('training and prediction on the local cloud', () => {
  it('trains a model on a READY dataset through the training saga, then predicts with it', async () => {
    const call = await local.client('plant-t');
    await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'pump', name: 'pump', content: skab }) });
    expect((await local.settled(call, '/datasets/pump')).status).toBe('READY');

    const started = await call('/ml/train', { method: 'POST', body: JSON.stringify({ modelId: 'pump-pca', datasetId: 'pump', detector: 'pca', features, trainRows: 400 }) });
    expect(started.status, await started.clone().text()).toBe(202);
    const model = await local.settled(call, '/ml/models/pump-pca');
    expect(model, JSON.stringify(model.failure)).toMatchObject({ status: 'READY', features });
    expect(model.metrics).toBeDefined();

    // A retried POST with the same model id starts no second run.
    const again = await call('/ml/train', { method: 'POST', body: JSON.stringify({ modelId: 'pump-pca', datasetId: 'pump', detector: 'pca', features, trainRows: 400 }) });
    expect(again.status).toBeLessThan(500);
    await local.cloud.drain();
    expect(local.cloud.stateMachines.executions('trainingPipeline')).toHaveLength(1);

    const normal = [0.0266, 0.0401, 1.33, 0.0547, 79.3, 26.0, 233, 32];
    const broken = [0.0266, 0.0401, 1.33, 0.0547, 79.3, 26.0, 233, 0];
    const predicted = await call('/ml/predict', { method: 'POST', body: JSON.stringify({ modelId: 'pump-pca', rows: [normal, broken] }) });
    expect(predicted.status, await predicted.clone().text()).toBe(200);
    const body = (await predicted.json()) as { model: { id: string; version: number; source: string }; results: { score: number; label: number; contributions: number[] }[] };
    expect(body.model).toMatchObject({ id: 'pump-pca', version: 1, source: 'registry' });
    const [ok, fault] = body.results;
    expect(fault.score).toBeGreaterThan(ok.score);
    expect(fault.label).toBe(1);
    // The flow sensor (last feature) drove the alarm.
    expect(fault.contributions.indexOf(Math.max(...fault.contributions))).toBe(features.length - 1);
  });

  it('by default learns from the normal rows only and never from the label columns: the hold-out F1 on SKAB valve1/0 is far above 0.01', async () => {
    const call = await local.client('plant-l');
    // No schema declared: the pipeline infers anomaly as the label and leaves changepoint out.
    await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'skab', name: 'skab', content: skab }) });
    expect((await local.settled(call, '/datasets/skab')).status).toBe('READY');

    await call('/ml/train', { method: 'POST', body: JSON.stringify({ modelId: 'default', datasetId: 'skab', detector: 'pca' }) });
    const model = (await local.settled(call, '/ml/models/default')) as { status: string; features: string[]; training: Record<string, number>; metrics: { labelled: { f1: number; anomalies: number } } };
    expect(model.status).toBe('READY');
    expect(model.features).toEqual(features);
    // The training part ends before the first labelled anomaly: the hold-out holds all 401 of them.
    expect(model.training).toMatchObject({ labelledAnomaliesLeftOut: 0 });
    expect(model.metrics.labelled.anomalies).toBe(401);
    expect(model.metrics.labelled.f1).toBeGreaterThan(0.5);

    // With a split that takes labelled rows into the training part, they are left out, and counted.
    await call('/ml/train', { method: 'POST', body: JSON.stringify({ modelId: 'late', datasetId: 'skab', detector: 'pca', trainFraction: 0.8 }) });
    const late = (await local.settled(call, '/ml/models/late')) as { training: { rows: number; splitAt: number; labelledAnomaliesLeftOut: number } };
    expect(late.training.labelledAnomaliesLeftOut).toBeGreaterThan(300);
    expect(late.training.rows).toBe(late.training.splitAt - late.training.labelledAnomaliesLeftOut);

    // A label column named as a feature is refused.
    const named = await call('/ml/train', { method: 'POST', body: JSON.stringify({ datasetId: 'skab', detector: 'pca', features: [...features, 'anomaly'] }) });
    expect(String((await expectProblem(named, 422)).detail)).toMatch(/"anomaly" is a label column/);
  });

  it('refuses training on a dataset that is not READY or not the tenant\'s, and predict with an unknown model', async () => {
    const call = await local.client('plant-u');
    const other = await local.client('plant-v');
    await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'pending', name: 'pending' }) });
    const notReady = await call('/ml/train', { method: 'POST', body: JSON.stringify({ datasetId: 'pending', detector: 'pca' }) });
    const problem = await expectProblem(notReady, 409);
    expect(problem).toMatchObject({ datasetStatus: 'PENDING' });
    await expectProblem(await other('/ml/train', { method: 'POST', body: JSON.stringify({ datasetId: 'pending', detector: 'pca' }) }), 404);
    await expectProblem(await call('/ml/predict', { method: 'POST', body: JSON.stringify({ modelId: 'nope', rows: [[1, 2]] }) }), 404);
    await expectProblem(await call('/ml/train', { method: 'POST', body: JSON.stringify({ datasetId: 'pending', detector: 'magic' }) }), 400);
  });
});
