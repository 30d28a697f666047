import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectProblem, useLocalCloud } from './localCloudFixture.js';

const local = useLocalCloud();
const skab = readFileSync(new URL('../fixtures/data/skab-valve1-0.csv', import.meta.url), 'utf8');
const features = ['Accelerometer1RMS', 'Accelerometer2RMS', 'Current', 'Pressure', 'Temperature', 'Thermocouple', 'Voltage', 'Volume Flow RateRMS'];

interface Evaluation {
  evaluationId: string;
  points: number;
  model: { id: string; version: number; source: string };
  dataset: { id: string; labelColumn: string; fromRow: number; toRow: number; anomalies: number; unlabelledRows: number };
  confusion: Record<'tp' | 'fp' | 'tn' | 'fn', number>;
  precision: number;
  recall: number;
  f1: number;
  falseAlarmRate: number;
  missedAlarmRate: number;
  rocAuc: number;
  prAuc: number;
  eventWindow: { score: number; windows: number; detected: number };
  stored: { key: string; onModel: boolean };
}

const inUnit = (x: number) => typeof x === 'number' && x >= 0 && x <= 1;

describe('evaluating a model on a labelled dataset on the local cloud', () => {
  it('trains on SKAB, evaluates the model on its labelled dataset, stores the result and shows it on the model', async () => {
    const call = await local.client('plant-e');
    await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'valve', name: 'valve', content: skab }) });
    expect((await local.settled(call, '/datasets/valve')).status).toBe('READY');
    const started = await call('/ml/train', { method: 'POST', body: JSON.stringify({ modelId: 'valve-pca', datasetId: 'valve', detector: 'pca', features, trainRows: 400 }) });
    expect(started.status, await started.clone().text()).toBe(202);
    expect((await local.settled(call, '/ml/models/valve-pca')).status).toBe('READY');

    const evaluate = () => call('/ml/evaluate', { method: 'POST', body: JSON.stringify({ modelId: 'valve-pca', datasetId: 'valve' }) });
    const reply = await evaluate();
    expect(reply.status, await reply.clone().text()).toBe(200);
    const result = (await reply.json()) as Evaluation;
    expect(result.model).toMatchObject({ id: 'valve-pca', version: 1, source: 'registry' });
    expect(result.dataset).toMatchObject({ id: 'valve', labelColumn: 'anomaly', fromRow: 0 });
    expect(result.dataset.anomalies).toBeGreaterThan(0);
    // Resampling adds rows without a label: scored, but left out of the metrics.
    expect(result.points + result.dataset.unlabelledRows).toBe(result.dataset.toRow);
    for (const metric of [result.precision, result.recall, result.f1, result.falseAlarmRate, result.missedAlarmRate, result.rocAuc, result.prAuc]) expect(inUnit(metric), String(metric)).toBe(true);
    expect(result.recall).toBeGreaterThan(0);
    expect(result.confusion.tp + result.confusion.fn).toBe(result.dataset.anomalies);
    expect(result.eventWindow.windows).toBeGreaterThan(0);
    expect(result.eventWindow.score).toBeGreaterThanOrEqual(-100);
    expect(result.eventWindow.score).toBeLessThanOrEqual(100);
    expect(result.stored).toEqual({ key: `models/plant-e/valve-pca/1/evaluations/${result.evaluationId}.json`, onModel: true });

    const model = (await (await call('/ml/models/valve-pca')).json()) as { lastEvaluation?: Record<string, unknown> };
    expect(model.lastEvaluation).toMatchObject({ id: result.evaluationId, datasetId: 'valve', f1: result.f1, far: result.falseAlarmRate, mar: result.missedAlarmRate, rocAuc: result.rocAuc, eventWindowScore: result.eventWindow.score });

    // A retry is the same evaluation, overwritten in place.
    const again = (await (await evaluate()).json()) as Evaluation;
    expect(again.evaluationId).toBe(result.evaluationId);
    expect(again.f1).toBe(result.f1);

    // 404: another tenant's dataset or model, or an unknown one.
    const other = await local.client('plant-f');
    await expectProblem(await other('/ml/evaluate', { method: 'POST', body: JSON.stringify({ modelId: 'valve-pca', datasetId: 'valve' }) }), 404);
    await expectProblem(await call('/ml/evaluate', { method: 'POST', body: JSON.stringify({ modelId: 'valve-pca', datasetId: 'nope' }) }), 404);
    // 422: no such label column; a row range past the end.
    await expectProblem(await call('/ml/evaluate', { method: 'POST', body: JSON.stringify({ modelId: 'valve-pca', datasetId: 'valve', labelColumn: 'nope' }) }), 422);
    await expectProblem(await call('/ml/evaluate', { method: 'POST', body: JSON.stringify({ modelId: 'valve-pca', datasetId: 'valve', fromRow: 1_000_000 }) }), 422);

    // 409 with the status: a dataset whose file never arrived.
    await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'pending', name: 'pending' }) });
    const pending = await expectProblem(await call('/ml/evaluate', { method: 'POST', body: JSON.stringify({ modelId: 'valve-pca', datasetId: 'pending' }) }), 409);
    expect(pending.datasetStatus).toBe('PENDING');

    // 422: a dataset without a label column (the same file without it).
    const unlabelled = skab
      .split('\n')
      .map((line) => line.split(';').slice(0, -2).join(';'))
      .join('\n');
    await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'unlabelled', name: 'unlabelled', content: unlabelled }) });
    expect((await local.settled(call, '/datasets/unlabelled')).status).toBe('READY');
    const noLabel = await expectProblem(await call('/ml/evaluate', { method: 'POST', body: JSON.stringify({ modelId: 'valve-pca', datasetId: 'unlabelled' }) }), 422);
    expect(noLabel.detail).toMatch(/no label column/);
  });
});
