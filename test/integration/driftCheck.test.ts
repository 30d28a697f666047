import type { EventBridgeEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { invokeFunction, type LocalFunction } from '../../local/lambdaRuntime.js';
import { createGaussian, createRng } from '../../shared/ml/multivariate/rng.js';
import { useLocalCloud, type ApiCall } from './localCloudFixture.js';

const local = useLocalCloud();
const sensors = ['line-7-flow', 'line-7-pressure'] as const;
const minute = 60_000;
// Hours before now: the schedule's own ticks (every 5 minutes, 0.3 s at this time scale) look at the last hour and find
// nothing there, so only the ticks this test makes at chosen times see these readings.
const t0 = Math.floor((Date.now() - 5 * 60 * minute) / minute) * minute;

/** Flow around 20 and pressure around 8, one row per 10 s; `shift` moves the pressure's mean (in its sd of 0.5). */
function plant(rows: number, seed: number, shift = 0): number[][] {
  const g = createGaussian(createRng(seed));
  return Array.from({ length: rows }, () => [20 + 2 * g(), 8 + 0.5 * (shift + g())]);
}

const json = (body: unknown, method = 'POST'): RequestInit => ({ method, body: JSON.stringify(body) });
async function ok<T>(response: Response, status = 200): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

/** Sends an hour of rows from `from` (pressure read 3 s after flow), through POST /readings. */
async function sendHour(call: ApiCall, from: number, values: number[][]) {
  for (const [k, sensorId] of sensors.entries()) {
    const body = { sensorId, timestamps: values.map((_, i) => from + (i + 1) * 10_000 + k * 3_000), values: values.map((row) => row[k]) };
    expect((await ok<{ accepted: number }>(await call('/readings', json(body)), 202)).accepted).toBe(values.length);
  }
}

const tick = (at: number) => invokeFunction(local.cloud.functions.get('checkModelDrift')!, { time: new Date(at).toISOString() }) as Promise<{ outcomes: Record<string, number> }>;

describe('the drift check of deployed models on the local cloud', () => {
  it('readings that drift from the training data -> drift.detected once -> the drift alert rule fires; readings back -> drift.resolved resolves it', async () => {
    const events: EventBridgeEvent<string, Record<string, unknown>>[] = [];
    const listener: LocalFunction = { spec: { name: 'driftListener', memoryMb: 128, timeoutSeconds: 5 }, handler: async (event: never) => void events.push(event) };
    local.cloud.bus.addRule({ name: 'driftEventsTest', detailTypes: ['drift.detected', 'drift.resolved'], fn: listener });
    const call = await local.client('plant-drift');
    for (const [i, id] of sensors.entries()) {
      await ok(await call('/sensors', json({ id, name: id, type: (['flow', 'pressure'] as const)[i], unit: 'u', group: 'line-7', samplingIntervalSeconds: 10 })), 201);
    }
    const history = plant(1200, 1);
    const csv = [['timestamp', ...sensors].join(','), ...history.map((row, i) => [new Date(t0 - 4 * 60 * minute + i * 10_000).toISOString(), ...row.map((v) => v.toFixed(4))].join(','))].join('\n');
    await ok(await call('/datasets', json({ id: 'line-history', name: 'line history', content: csv })), 201);
    expect((await local.settled(call, '/datasets/line-history')).status).toBe('READY');
    await ok(await call('/ml/train', json({ modelId: 'line-pca', datasetId: 'line-history', detector: 'pca', features: [...sensors] })), 202);
    expect((await local.settled(call, '/ml/models/line-pca', 60_000)).status).toBe('READY');
    await ok(await call('/mlops/deploy', json({ group: 'line-7', action: 'promote', modelId: 'line-pca' })));
    const rule = await ok<{ id: string }>(
      await call('/monitoring/alerts', json({ name: 'Line 7 drift', condition: { kind: 'driftDetected', group: 'line-7' }, targets: [{ kind: 'webhook', url: `${local.cloud.webhookReceiver}/line-7-drift` }] })),
      201,
    );

    // An hour as in training, an hour with the pressure 2 sd higher, and an hour as in training again.
    await sendHour(call, t0, plant(360, 2));
    await sendHour(call, t0 + 60 * minute, plant(360, 3, 2));
    await sendHour(call, t0 + 120 * minute, plant(360, 4));
    await local.cloud.drain(30_000);

    expect((await tick(t0 + 60 * minute)).outcomes).toEqual({ clear: 1 });
    // Three overlapping runs of one tick (a slow run and its retries): the conditional state write lets one open the episode.
    const overlapping = await Promise.all([tick(t0 + 120 * minute), tick(t0 + 120 * minute), tick(t0 + 120 * minute)]);
    const counted = overlapping.flatMap((t) => Object.entries(t.outcomes).flatMap(([outcome, n]) => Array<string>(n).fill(outcome)));
    expect(counted.filter((o) => o === 'detected')).toHaveLength(1);
    expect(counted.filter((o) => !['detected', 'raced', 'drifted'].includes(o))).toEqual([]);
    // The next ticks of the episode publish nothing more.
    expect((await tick(t0 + 125 * minute)).outcomes).toEqual({ drifted: 1 });
    await local.cloud.drain();
    const detected = events.filter((e) => e['detail-type'] === 'drift.detected');
    expect(detected).toHaveLength(1);
    const detail = detected[0].detail;
    expect(detail).toMatchObject({
      tenant: 'plant-drift',
      group: 'line-7',
      modelId: 'line-pca',
      version: 1,
      role: 'champion',
      verdict: 'significant',
      window: { from: new Date(t0 + 60 * minute).toISOString(), to: new Date(t0 + 120 * minute).toISOString(), rows: 360 },
      correlationId: `drift-check-${new Date(t0 + 120 * minute).toISOString()}`,
    });
    const features = detail.features as { feature: string; psi: number; meanShiftSd: number }[];
    expect(features.map((f) => f.feature)).toEqual(['line-7-pressure']);
    expect(features[0].psi).toBeGreaterThan(0.25);
    expect(features[0].meanShiftSd).toBeGreaterThan(1.5);

    // The rule fired once, for the model version, and its webhook was delivered with the drift's correlation id.
    const fired = await ok<{ items: { type: string; subject: string; summary: string; correlationId?: string; deliveries: { status: string }[] }[] }>(await call(`/monitoring/alerts/${rule.id}/events`));
    expect(fired.items).toMatchObject([{ type: 'fired', subject: 'line-7/line-pca@1', correlationId: detail.correlationId, deliveries: [{ status: 'delivered' }] }]);
    expect(fired.items[0].summary).toMatch(/^drift on the champion line-pca v1 of line-7 over the last 60 minutes \(360 rows\): line-7-pressure \(PSI/);
    expect(local.cloud.outbox.entries().filter((e) => e.to === 'POST /line-7-drift')).toHaveLength(1);

    // The readings are back to normal: drift.resolved, with the episode's id, resolves the alert.
    expect((await tick(t0 + 180 * minute)).outcomes).toEqual({ resolved: 1 });
    await local.cloud.drain();
    const resolved = events.filter((e) => e['detail-type'] === 'drift.resolved');
    expect(resolved.map((e) => e.detail.driftId)).toEqual([detail.driftId]);
    const after = await ok<{ alerts: { subject: string; state: string }[] }>(await call(`/monitoring/alerts/${rule.id}`));
    expect(after.alerts).toMatchObject([{ subject: 'line-7/line-pca@1', state: 'resolved' }]);
  });
});
