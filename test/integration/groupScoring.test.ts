import type { EventBridgeEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { LocalFunction } from '../../local/lambdaRuntime.js';
import { createGaussian, createRng } from '../../shared/ml/multivariate/rng.js';
import { expectProblem, useLocalCloud, type ApiCall } from './localCloudFixture.js';

const local = useLocalCloud();
const t0 = Date.UTC(2026, 1, 2, 8);
const sensors = ['press-1-flow', 'press-1-pressure', 'press-1-current'] as const;

/**
 * A press line: flow, pressure and motor current driven by one load, each with its own noise.
 * `broken` rows keep flow and current but pressure drops by 3 (a leak): each sensor alone stays in
 * its range, only the relation between them breaks, which a group model sees and no single sensor does.
 */
function plant(rows: number, seed: number, broken: [number, number] = [-1, -1]): number[][] {
  const g = createGaussian(createRng(seed));
  return Array.from({ length: rows }, (_, i) => {
    const load = 2 * Math.sin(i / 40) + 0.5 * g();
    const leak = i >= broken[0] && i < broken[1] ? -3 : 0;
    return [20 + 2 * load + 0.1 * g(), 8 + load + 0.1 * g() + leak, 12 + 1.5 * load + 0.1 * g()];
  });
}

const json = (body: unknown, method = 'POST'): RequestInit => ({ method, body: JSON.stringify(body) });
async function ok<T>(response: Response, status = 200): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

async function trainedAndDeployed(call: ApiCall): Promise<void> {
  for (const [i, id] of sensors.entries()) {
    await ok(await call('/sensors', json({ id, name: id, type: (['flow', 'pressure', 'current'] as const)[i], unit: 'u', group: 'press-1', samplingIntervalSeconds: 1 })), 201);
  }
  const history = plant(1200, 1);
  const csv = [['timestamp', ...sensors].join(','), ...history.map((row, i) => [new Date(t0 - 7_200_000 + i * 1000).toISOString(), ...row.map((v) => v.toFixed(4))].join(','))].join('\n');
  await ok(await call('/datasets', json({ id: 'press-history', name: 'press history', content: csv })), 201);
  expect((await local.settled(call, '/datasets/press-history')).status).toBe('READY');
  await ok(await call('/ml/train', json({ modelId: 'press-pca', datasetId: 'press-history', detector: 'pca', features: [...sensors] })), 202);
  expect((await local.settled(call, '/ml/models/press-pca', 60_000)).status).toBe('READY');
  await ok(await call('/mlops/deploy', json({ group: 'press-1', action: 'promote', modelId: 'press-pca' })));
}

describe("a sensor group's deployed model scores its readings as they arrive (local cloud)", () => {
  it('POST /readings of the group -> the champion, through predict, opens an episode naming the model, its version, the sensors and their contributions', async () => {
    const opened: EventBridgeEvent<string, Record<string, unknown>>[] = [];
    const listener: LocalFunction = { spec: { name: 'groupAnomalyListener', memoryMb: 128, timeoutSeconds: 5 }, handler: async (event: never) => void opened.push(event) };
    local.cloud.bus.addRule({ name: 'groupAnomalyTest', detailTypes: ['anomaly.opened'], fn: listener });
    const call = await local.client('plant-g');
    await trainedAndDeployed(call);

    // 400 live seconds, each sensor sampled at its own offset within the second; a leak over [250, 290).
    const live = plant(400, 2, [250, 290]);
    for (const [k, sensorId] of sensors.entries()) {
      for (let from = 0; from < live.length; from += 200) {
        const part = live.slice(from, from + 200);
        const body = { sensorId, timestamps: part.map((_, i) => t0 + (from + i) * 1000 + k * 250), values: part.map((row) => row[k]) };
        expect((await ok<{ accepted: number }>(await call('/readings', json(body)), 202)).accepted).toBe(part.length);
      }
    }
    await local.cloud.drain(30_000);

    // The group model's episode that spans the leak (it may have opened on a calibrated false alarm shortly before).
    const listed = await ok<{ items: Record<string, unknown>[] }>(await call('/anomalies?group=press-1'));
    const atLeak = listed.items.filter((e) => (e.model as { name: string }).name === 'press-pca' && Date.parse(e.start as string) < t0 + 290_000 && Date.parse(e.end as string) >= t0 + 250_000);
    expect(atLeak).toHaveLength(1);
    const episode = atLeak[0];
    expect(episode).toMatchObject({ group: 'press-1', sensorId: 'press-1-flow', model: { name: 'press-pca', version: '1' } });
    expect(opened.filter((e) => e.detail.episodeId === episode.id)).toHaveLength(1);
    expect(Date.parse(episode.peakAt as string)).toBeGreaterThanOrEqual(t0 + 250_000);
    expect(Date.parse(episode.peakAt as string)).toBeLessThan(t0 + 290_000);
    const contributions = episode.sensors as { sensorId: string; contribution: number }[];
    expect(contributions.map((c) => c.sensorId)).toEqual([...sensors]);
    // The leak is in the pressure: it carries the largest share of the anomaly at the peak.
    const top = contributions.reduce((a, b) => (b.contribution > a.contribution ? b : a));
    expect(top.sensorId).toBe('press-1-pressure');

    // The operator confirms it: a label for the ml context (anomaly.reviewed), so a model trained on
    // the line's readings does not learn the leak as normal.
    await ok(await call(`/anomalies/${episode.id as string}`, json({ verdict: 'confirmed', note: 'leak at the flange' }, 'PATCH')));
    await local.cloud.drain(10_000);
    const before = plant(800, 3);
    const rows = [...before.map((row, i) => ({ t: t0 - (800 - i) * 1000, row })), ...live.map((row, i) => ({ t: t0 + i * 1000, row }))];
    const csv = [['timestamp', ...sensors].join(','), ...rows.map(({ t, row }) => [new Date(t).toISOString(), ...row.map((v) => v.toFixed(4))].join(','))].join('\n');
    await ok(await call('/datasets', json({ id: 'press-recent', name: 'press recent', content: csv })), 201);
    expect((await local.settled(call, '/datasets/press-recent')).status).toBe('READY');
    const trainRows = 1150;
    await ok(await call('/ml/train', json({ modelId: 'press-pca-2', datasetId: 'press-recent', detector: 'pca', features: [...sensors], trainRows })), 202);
    const retrained = await local.settled(call, '/ml/models/press-pca-2', 60_000);
    expect(retrained.status).toBe('READY');
    const judged = await ok<Record<string, string>>(await call(`/anomalies/${episode.id as string}`));
    const [from, to] = [Date.parse(judged.start), Date.parse(judged.end)];
    const inside = rows.slice(0, trainRows).filter(({ t }) => t >= from && t <= to).length;
    expect(inside).toBeGreaterThan(20);
    expect(retrained.training).toMatchObject({ splitAt: trainRows, confirmedAnomaliesLeftOut: inside, rows: trainRows - inside });

    // The sensors context exports the line's live readings aligned and labelled by the verdicts: a dataset to evaluate on.
    const exported = await call(`/sensors/press-1-flow/labelled-history?with=press-1-pressure,press-1-current&from=${t0}&to=${t0 + 400_000}`, { headers: { accept: 'text/csv' } });
    expect(exported.status, await exported.clone().text()).toBe(200);
    expect(exported.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await exported.text()).trim().split('\n');
    expect(lines[0]).toBe(['timestamp', ...sensors, 'label'].join(','));
    expect(lines).toHaveLength(401);
    const labelled = lines.slice(1).filter((line) => line.endsWith(',1')).map((line) => Date.parse(line.split(',')[0]));
    expect(labelled).toEqual(live.map((_, i) => t0 + i * 1000).filter((t) => t >= from && t <= to));
    await ok(await call('/datasets', json({ id: 'press-labelled', name: 'press live, labelled', content: lines.join('\n') })), 201);
    expect((await local.settled(call, '/datasets/press-labelled')).status).toBe('READY');
    const onExport = await ok<Record<string, Record<string, unknown>>>(await call('/ml/evaluate', json({ modelId: 'press-pca', datasetId: 'press-labelled', labelColumn: 'label' })));
    expect(onExport.dataset).toMatchObject({ labelColumn: 'label', anomalies: labelled.length });
    await expectProblem(await call(`/sensors/press-1-flow/labelled-history?with=press-1-ghost&from=${t0}&to=${t0 + 1000}`), 404);
    await expectProblem(await call(`/sensors/press-1-flow/labelled-history?from=${t0 + 1000}&to=${t0}`), 400);

    // The deployed model, scored against the operators' verdicts on the same readings.
    const evaluated = await ok<Record<string, Record<string, unknown>>>(await call('/ml/evaluate', json({ modelId: 'press-pca', datasetId: 'press-recent', labelsFrom: 'verdicts' })));
    expect(evaluated.dataset).toMatchObject({ labelsFrom: 'verdicts', anomalies: rows.filter(({ t }) => t >= from && t <= to).length });
    // The episode may have opened on a false alarm before the leak: its 40 rows are caught, whatever else the label spans.
    expect(evaluated.confusion.tp).toBeGreaterThanOrEqual(35);
  });
});
