import type { EventBridgeEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { LocalFunction } from '../../local/lambdaRuntime.js';
import { createGaussian, createRng } from '../../shared/ml/multivariate/rng.js';
import { useLocalCloud } from './localCloudFixture.js';

const local = useLocalCloud();
type Event = EventBridgeEvent<string, Record<string, unknown>>;
const events: Event[] = [];

beforeAll(() => {
  const listener: LocalFunction = { spec: { name: 'correlationListener', memoryMb: 128, timeoutSeconds: 5 }, handler: async (event: never) => void events.push(event as Event) };
  local.cloud.bus.addRule({ name: 'correlationTest', detailTypes: ['anomaly.opened', 'pipeline.failed'], fn: listener });
});

describe("one request's correlation id through every hop", () => {
  it("a reading's id reaches the anomaly.opened event and the episode it opened", async () => {
    const call = await local.client('trace-readings');
    expect((await call('/sensors', { method: 'POST', body: JSON.stringify({ id: 'pump-9', name: 'Pump 9', type: 'vibration', unit: 'mm/s', samplingIntervalSeconds: 1 }) })).status).toBe(201);
    const noise = createGaussian(createRng(5));
    const t0 = Date.now() - 700_000;
    const readings = Array.from({ length: 600 }, (_, i) => ({ sensorId: 'pump-9', timestamp: t0 + i * 1000, value: 2 + 0.1 * noise() + (i >= 520 && i < 560 ? 4 : 0) }));
    const posted = await call('/readings', { method: 'POST', body: JSON.stringify({ readings }), headers: { 'x-correlation-id': 'trace-reading-1' } });
    expect(posted.status).toBe(202);
    expect(posted.headers.get('x-correlation-id')).toBe('trace-reading-1');
    await local.cloud.drain(20_000);

    const opened = events.filter((e) => e['detail-type'] === 'anomaly.opened' && e.detail.tenant === 'trace-readings');
    expect(opened).toHaveLength(1);
    expect(opened[0].detail.correlationId).toBe('trace-reading-1');
    const episode = (await (await call(`/anomalies/${opened[0].detail.episodeId as string}`)).json()) as { correlationIds?: string[] };
    expect(episode.correlationIds).toEqual(['trace-reading-1']);
  });

  it("an upload's id reaches its pipeline run record and pipeline.failed", async () => {
    const call = await local.client('trace-uploads');
    const registered = await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'broken', name: 'broken', content: 'hello\nworld\n' }), headers: { 'x-correlation-id': 'trace-upload-1' } });
    expect(registered.status).toBe(201);
    const dataset = (await local.settled(call, '/datasets/broken')) as { status: string; correlationId?: string; run?: { correlationId?: string } };
    expect(dataset).toMatchObject({ status: 'FAILED', correlationId: 'trace-upload-1', run: { correlationId: 'trace-upload-1' } });
    await local.cloud.drain(10_000);
    const failed = events.filter((e) => e['detail-type'] === 'pipeline.failed' && e.detail.tenant === 'trace-uploads');
    expect(failed).toHaveLength(1);
    expect(failed[0].detail).toMatchObject({ datasetId: 'broken', correlationId: 'trace-upload-1' });

    // A re-run is a request of its own: its id replaces the upload's on the run.
    const rerun = await call('/datasets/broken/runs', { method: 'POST', headers: { 'x-correlation-id': 'trace-rerun-1' } });
    expect(rerun.status).toBe(202);
    expect(await local.settled(call, '/datasets/broken')).toMatchObject({ status: 'FAILED', run: { correlationId: 'trace-rerun-1' } });

    // A file PUT to an upload URL: its run carries the id of the request that asked for the URL.
    const body = 'hello again\nworld\n';
    const asked = await call('/datasets/broken/upload', { method: 'POST', body: JSON.stringify({ sizeBytes: Buffer.byteLength(body) }), headers: { 'x-correlation-id': 'trace-url-1' } });
    expect(asked.status).toBe(200);
    const { upload } = (await asked.json()) as { upload: { url: string; headers: Record<string, string> } };
    expect((await fetch(upload.url, { method: 'PUT', body, headers: upload.headers })).status).toBe(200);
    // The dataset is FAILED already (the re-run's): wait for the upload's own run, which the object event starts.
    await vi.waitFor(async () => {
      await local.cloud.drain(10_000);
      expect(await local.settled(call, '/datasets/broken')).toMatchObject({ status: 'FAILED', correlationId: 'trace-url-1', run: { correlationId: 'trace-url-1' } });
    }, { timeout: 15_000, interval: 200 });
    expect(events.filter((e) => e['detail-type'] === 'pipeline.failed' && e.detail.correlationId === 'trace-url-1')).toHaveLength(1);
  });
});
