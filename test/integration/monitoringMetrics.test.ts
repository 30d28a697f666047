import { describe, expect, it } from 'vitest';
import { expectProblem, useLocalCloud, type ApiCall } from './localCloudFixture.js';

const local = useLocalCloud();

type Step = { start: string; counts: Record<string, number>; scoringLag: { count: number; maxMs: number | null }; predictLatency: { count: number; p50Ms: number | null; p95Ms: number | null } };
const total = (steps: Step[], name: string) => steps.reduce((sum, s) => sum + s.counts[name], 0);

/** The figures of the last hour; the recorder writes in the background, so wait until `ready` holds. */
async function figures(call: ApiCall, ready: (steps: Step[]) => boolean): Promise<Step[]> {
  const until = Date.now() + 15_000;
  for (;;) {
    await local.cloud.drain(10_000);
    const response = await call('/monitoring/metrics?step=5m');
    expect(response.status, await response.clone().text()).toBe(200);
    const { steps } = (await response.json()) as { steps: Step[] };
    if (ready(steps) || Date.now() > until) return steps;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('GET /monitoring/metrics on the local cloud', () => {
  it("counts a tenant's readings ingested and rejected, the scoring lag and the events on the bus, for that tenant only", async () => {
    const acme = await local.client('metrics-acme');
    expect((await acme('/sensors', { method: 'POST', body: JSON.stringify({ id: 'm1', name: 'Motor 1', type: 'pressure', unit: 'bar', samplingIntervalSeconds: 1 }) })).status).toBe(201);
    const now = Date.now() - 60_000;
    const readings = [...Array.from({ length: 20 }, (_, i) => ({ sensorId: 'm1', timestamp: now + i * 1000, value: i })), { sensorId: 'ghost', timestamp: now, value: 1 }];
    expect((await acme('/readings', { method: 'POST', body: JSON.stringify({ readings }) })).status).toBe(202);
    const rows = [[0.1, 0.2, 0.1, -0.4, 0.1, 0.3, 0.2, 0.05]];
    for (let i = 0; i < 3; i++) expect((await acme('/ml/predict', { method: 'POST', body: JSON.stringify({ modelId: 'baseline-pca', rows }) })).status).toBe(200);
    local.cloud.bus.put({ source: 'telltale', detailType: 'alert.fired', detail: { tenant: 'metrics-acme', alertId: 'a1' } });
    // An event naming no tenant is no tenant's figure: skipped, not retried into the dead-letter queue.
    local.cloud.bus.put({ source: 'telltale', detailType: 'alert.fired', detail: { alertId: 'no-tenant' } });
    // An episode's anomaly.opened published twice (a scorer that crashed after publishing) counts once.
    for (let i = 0; i < 2; i++) local.cloud.bus.put({ source: 'telltale', detailType: 'anomaly.opened', detail: { tenant: 'metrics-acme', episodeId: 'ep-twice' } });
    local.cloud.bus.put({ source: 'telltale', detailType: 'pipeline.failed', detail: { tenant: 'metrics-acme', datasetId: 'd1' } });
    local.cloud.bus.put({ source: 'telltale', detailType: 'pipeline.failed', detail: { tenant: 'metrics-acme', pipeline: 'training', modelId: 'x' } });

    const predicted = (s: Step[]) => s.reduce((sum, step) => sum + step.predictLatency.count, 0);
    const steps = await figures(acme, (s) => total(s, 'readingsIngested') === 20 && s.some((step) => step.scoringLag.count > 0) && total(s, 'trainingFailures') === 1 && predicted(s) === 3);
    expect(predicted(steps)).toBe(3);
    const latency = steps.find((step) => step.predictLatency.count > 0)!.predictLatency;
    expect(latency.p95Ms).toBeGreaterThanOrEqual(latency.p50Ms!);
    expect(latency.p50Ms).toBeGreaterThan(0);
    expect(steps).toHaveLength(12);
    expect(total(steps, 'readingsIngested')).toBe(20);
    expect(total(steps, 'readingsRejected')).toBe(1);
    expect(total(steps, 'alertsFired')).toBe(1);
    expect(total(steps, 'episodesOpened')).toBe(1);
    expect(total(steps, 'pipelineFailures')).toBe(1);
    expect(total(steps, 'pipelineRuns')).toBe(1);
    expect(total(steps, 'trainingJobs')).toBe(1);
    expect(steps.at(-1)!.scoringLag.maxMs).toBeGreaterThanOrEqual(0);

    expect(local.cloud.bus.failedEvents().filter((f) => f.rule.startsWith('countEvents'))).toEqual([]);

    const other = await local.client('metrics-other');
    const otherSteps = (await (await other('/monitoring/metrics?step=5m')).json()) as { steps: Step[] };
    expect(total(otherSteps.steps, 'readingsIngested')).toBe(0);
  });

  it('answers every step of a range, oldest first', async () => {
    const call = await local.client('metrics-range');
    const response = await call('/monitoring/metrics?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&step=1h');
    const body = (await response.json()) as { from: string; to: string; stepMinutes: number; steps: Step[] };
    expect(body).toMatchObject({ from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z', stepMinutes: 60 });
    expect(body.steps).toHaveLength(24);
    expect(body.steps[1].start).toBe('2026-01-01T01:00:00.000Z');
  });

  it('refuses bad ranges and steps with a 400 problem, and callers without a token or the read scope', async () => {
    const call = await local.client('metrics-range');
    for (const query of [
      'from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z',
      'from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&step=1d',
      'from=2026-01-01T00:00:00Z&to=2026-01-03T00:00:00Z&step=1m',
      'step=0m',
      'step=5s',
      'from=yesterday',
      'unknown=1',
    ]) {
      await expectProblem(await call(`/monitoring/metrics?${query}`), 400);
    }
    await expectProblem(await fetch(`${local.cloud.url}/api/v1/monitoring/metrics`), 401);
    await expectProblem(await (await local.client('metrics-range', ['telltale/ingest']))('/monitoring/metrics'), 403);
  });
});

describe('GET /monitoring/dashboards', () => {
  it("derives the default dashboard from the tenant's sensors; no CloudWatch dashboard on the local cloud", async () => {
    const call = await local.client('dash-acme');
    expect((await call('/sensors', { method: 'POST', body: JSON.stringify({ id: 'fan-2', name: 'Fan 2', type: 'vibration', unit: 'mm/s', samplingIntervalSeconds: 1 }) })).status).toBe(201);
    const response = await call('/monitoring/dashboards');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { dashboards: { widgets: Record<string, unknown>[] }[]; operator: unknown };
    expect(body.operator).toBeNull();
    expect(body.dashboards[0].widgets).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'metrics', source: '/api/v1/monitoring/metrics?step=5m' }),
        expect.objectContaining({ type: 'anomalyTimeline' }),
        expect.objectContaining({ type: 'sensor', sensorId: 'fan-2', title: 'Fan 2', source: '/api/v1/sensors/fan-2/readings' }),
      ]),
    );
    const other = (await (await (await local.client('dash-other'))('/monitoring/dashboards')).json()) as { dashboards: { widgets: { type: string }[] }[] };
    expect(other.dashboards[0].widgets.filter((w) => w.type === 'sensor')).toEqual([]);
    await expectProblem(await (await local.client('dash-acme', ['telltale/ingest']))('/monitoring/dashboards'), 403);
  });
});
