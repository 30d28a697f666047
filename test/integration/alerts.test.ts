import type { EventBridgeEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { invokeFunction, type LocalFunction } from '../../local/lambdaRuntime.js';
import { dynamoReadingsStore } from '../../shared/aws/dynamoReadingsStore.js';
import { bucketSpanMs } from '../../shared/sensors/readingBucket.js';
import { expectProblem, useLocalCloud, type ApiCall } from './localCloudFixture.js';

// Visibility timeouts scaled to 0.9 s outlast a cold handler (at 1/1000 a slow first delivery comes back while it runs,
// as SQS's at-least-once delivery allows); the retries' backoff starts at 2 s, 10 ms scaled.
process.env.ALERT_RETRY_BASE_SECONDS = '2';
const local = useLocalCloud({ timeScale: 0.005 });
/** Deliveries by idempotency key: a receiver counts an alert once per key, however often it arrives. */
const distinctKeys = (to: string) => new Set(local.cloud.outbox.entries().filter((e) => e.to === to).map((e) => e.idempotencyKey)).size;
let admin: ApiCall;
let reader: ApiCall;
const fired: EventBridgeEvent<string, Record<string, unknown>>[] = [];

const episode = (n: number, overrides: Record<string, unknown> = {}) => ({
  tenant: 'acme',
  episodeId: `ep-${String(n).padStart(24, '0')}`,
  id: `ep-${String(n).padStart(24, '0')}`,
  sensorId: 'pump-9-vibration',
  group: 'pump-9',
  status: 'open',
  start: '2026-03-01T00:00:00.000Z',
  end: '2026-03-01T00:00:10.000Z',
  peakScore: 0.95,
  peakAt: '2026-03-01T00:00:05.000Z',
  severity: 'critical',
  kind: null,
  points: 3,
  sensors: [{ sensorId: 'pump-9-vibration', contribution: 1 }],
  model: { name: 'streaming', version: '1' },
  correlationId: 'corr-1',
  ...overrides,
});

const put = (detailType: string, detail: Record<string, unknown>) => local.cloud.bus.put({ source: 'telltale', detailType, detail });
/** A drift.detected as the scheduled drift check publishes it. */
const drift = (group: string, driftId: string) => ({
  tenant: 'acme',
  group,
  modelId: 'm-1',
  version: 1,
  role: 'champion',
  driftId,
  window: { from: '2026-03-01T00:00:00.000Z', to: '2026-03-01T01:00:00.000Z', rows: 360 },
  correlationId: `drift-check-${driftId}`,
  verdict: 'significant',
  features: [{ feature: `${group}-pressure`, ks: { statistic: 0.4, pValue: 1e-9 }, psi: 0.6, verdict: 'significant', meanShiftSd: 1.5 }],
  thresholds: { psiModerate: 0.1, psiSignificant: 0.25, ksPValue: 0.01 },
});

async function createRule(body: Record<string, unknown>) {
  const response = await admin('/monitoring/alerts', { method: 'POST', body: JSON.stringify(body) });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as { id: string; secrets: { target: number; secret: string }[]; targets: Record<string, unknown>[] };
}

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  admin = await local.client('acme');
  reader = await local.client('acme', ['telltale/read']);
  const listener: LocalFunction = { spec: { name: 'alertListener', memoryMb: 128, timeoutSeconds: 5 }, handler: async (event: never) => void fired.push(event) };
  local.cloud.bus.addRule({ name: 'alertEventsTest', detailTypes: ['alert.fired', 'alert.delivery.failed'], fn: listener });
});

describe('alert rules: the routes', () => {
  it('creates a rule with a generated webhook secret shown once, a hint afterwards, and never the secret again', async () => {
    const created = await createRule({
      name: 'Pump 9 anomalies',
      condition: { kind: 'anomalyOpened', on: { group: 'pump-9' }, minSeverity: 'major' },
      targets: [{ kind: 'webhook', url: `${local.cloud.webhookReceiver}/routes` }, { kind: 'email', address: 'ops@example.com' }],
    });
    expect(created.id).toMatch(/^ar-[0-9a-f]{24}$/);
    expect(created.secrets).toHaveLength(1);
    expect(created.secrets[0].secret).toMatch(/^whsec_/);
    expect(created.targets[0]).toMatchObject({ kind: 'webhook', format: 'json', secretHint: `...${created.secrets[0].secret.slice(-4)}` });

    const got = await reader(`/monitoring/alerts/${created.id}`);
    expect(got.status).toBe(200);
    const text = await got.text();
    expect(text).not.toContain(created.secrets[0].secret);
    expect(text).not.toContain('secretId');
    expect(JSON.parse(text)).toMatchObject({ id: created.id, cooldownSeconds: 900, enabled: true, alerts: [] });

    const list = (await (await reader('/monitoring/alerts')).json()) as { items: { id: string }[] };
    expect(list.items.map((r) => r.id)).toContain(created.id);
    // Another tenant sees nothing of it.
    const other = await local.client('globex');
    await expectProblem(await other(`/monitoring/alerts/${created.id}`), 404);
  });

  it('refuses bad input with 4xx problems: malformed, wrong-typed, unknown kinds, two scopes, a read-only token, unknown ids', async () => {
    const post = (body: unknown, call = admin) => call('/monitoring/alerts', { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
    const valid = { name: 'x', condition: { kind: 'pipelineFailed' }, targets: [{ kind: 'email', address: 'a@example.com' }] };
    await expectProblem(await post('{"name":'), 400);
    await expectProblem(await post({ ...valid, name: 42 }), 400);
    await expectProblem(await post({ ...valid, condition: { kind: 'moonPhase' } }), 400);
    await expectProblem(await post({ ...valid, condition: { kind: 'anomalyOpened', on: { sensorId: 'a', group: 'b' } } }), 400);
    await expectProblem(await post({ ...valid, targets: [] }), 400);
    await expectProblem(await post({ ...valid, targets: [{ kind: 'webhook', url: 'ftp://example.com/x' }] }), 400);
    await expectProblem(await post({ ...valid, targets: [{ kind: 'sms', phoneNumber: '12345' }] }), 400);
    await expectProblem(await post({ ...valid, name: 'x'.repeat(40_000) }), 413);
    await expectProblem(await post(valid, reader), 403);
    await expectProblem(await admin('/monitoring/alerts/ar-000000000000000000000000'), 404);
    await expectProblem(await admin('/monitoring/alerts/nope'), 400);
    await expectProblem(await admin('/monitoring/alerts/ar-000000000000000000000000', { method: 'PATCH', body: '{}' }), 400);
    await expectProblem(await admin('/monitoring/alerts/ar-000000000000000000000000', { method: 'DELETE' }), 404);
  });

  it('PATCH changes a rule and moves its key; DELETE removes it and its secret', async () => {
    const created = await createRule({ name: 'Drift', condition: { kind: 'driftDetected', group: 'pump-9' }, targets: [{ kind: 'webhook', url: `${local.cloud.webhookReceiver}/drift`, secret: 'a-secret-of-my-own-1234' }] });
    expect(created.secrets).toEqual([]);
    const patched = await admin(`/monitoring/alerts/${created.id}`, { method: 'PATCH', body: JSON.stringify({ name: 'Any drift', condition: { kind: 'driftDetected' } }) });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ name: 'Any drift', condition: { kind: 'driftDetected' } });

    put('drift.detected', drift('compressor-1', 'dr-1'));
    await local.cloud.drain();
    const events = (await (await reader(`/monitoring/alerts/${created.id}/events`)).json()) as { items: { type: string; subject: string; deliveries: { status: string }[] }[] };
    expect(events.items).toMatchObject([{ type: 'fired', subject: 'compressor-1/m-1@1', deliveries: [{ status: 'delivered' }] }]);

    expect((await admin(`/monitoring/alerts/${created.id}`, { method: 'DELETE' })).status).toBe(204);
    await expectProblem(await reader(`/monitoring/alerts/${created.id}`), 404);
    put('drift.detected', drift('compressor-2', 'dr-2'));
    await local.cloud.drain();
    expect(distinctKeys('POST /drift')).toBe(1);
  });
});

describe('alert rules: evaluation and delivery on the local cloud', () => {
  it('anomaly.opened fires once per (rule, subject): a signed webhook and an email, with delivery statuses on the events', async () => {
    const rule = await createRule({
      name: 'Pump 10 critical',
      condition: { kind: 'anomalyOpened', on: { sensorId: 'pump-10-vibration' }, minSeverity: 'critical' },
      targets: [{ kind: 'webhook', url: `${local.cloud.webhookReceiver}/p10`, format: 'slack' }, { kind: 'email', address: 'pump10@example.com' }],
      cooldownSeconds: 3600,
    });
    // Too mild: no alert.
    put('anomaly.opened', episode(1, { sensorId: 'pump-10-vibration', severity: 'major', peakScore: 0.8 }));
    // Flapping and concurrent: three episodes at once, one alert.
    for (const n of [2, 3, 4]) put('anomaly.opened', episode(n, { sensorId: 'pump-10-vibration' }));
    await local.cloud.drain();

    const webhooks = local.cloud.outbox.entries().filter((e) => e.to === 'POST /p10');
    expect(distinctKeys('POST /p10')).toBe(1);
    expect(webhooks[0].signatureValid).toBe(true);
    expect(JSON.parse(webhooks[0].body)).toMatchObject({ text: expect.stringContaining('Pump 10 critical') as unknown, blocks: expect.any(Array) as unknown });
    expect(local.cloud.outbox.entries().filter((e) => e.channel === 'email' && e.to === 'pump10@example.com')).toHaveLength(1);

    const got = (await (await reader(`/monitoring/alerts/${rule.id}`)).json()) as { alerts: { subject: string; state: string; suppressed: number }[] };
    expect(got.alerts).toMatchObject([{ subject: 'pump-10-vibration', state: 'open', suppressed: 2 }]);
    const events = (await (await reader(`/monitoring/alerts/${rule.id}/events`)).json()) as { items: { type: string; correlationId?: string; deliveries: { kind: string; status: string; attempts: number; idempotencyKey: string }[] }[] };
    expect(events.items).toHaveLength(1);
    expect(events.items[0]).toMatchObject({ type: 'fired', correlationId: 'corr-1' });
    expect(events.items[0].deliveries.map((d) => [d.kind, d.status, d.attempts])).toEqual([
      ['webhook', 'delivered', 1],
      ['email', 'delivered', 1],
    ]);
    expect(webhooks[0].idempotencyKey).toBe(events.items[0].deliveries[0].idempotencyKey);
    expect(fired.filter((e) => e.detail.ruleId === rule.id && e['detail-type'] === 'alert.fired')).toHaveLength(1);

    // anomaly.closed resolves it; a new episode within the cool-down does not page again.
    put('anomaly.closed', episode(2, { sensorId: 'pump-10-vibration', status: 'closed' }));
    await local.cloud.drain();
    put('anomaly.opened', episode(5, { sensorId: 'pump-10-vibration' }));
    await local.cloud.drain();
    const after = (await (await reader(`/monitoring/alerts/${rule.id}`)).json()) as { alerts: { state: string }[] };
    expect(after.alerts).toMatchObject([{ state: 'resolved' }]);
    expect(distinctKeys('POST /p10')).toBe(1);
  });

  it('concurrent invocations of the evaluator for one rule and subject claim one alert', async () => {
    const rule = await createRule({ name: 'Pump 11', condition: { kind: 'anomalyOpened', on: { model: 'streaming' } }, targets: [{ kind: 'webhook', url: `${local.cloud.webhookReceiver}/p11` }] });
    const evaluate = local.cloud.functions.get('evaluateAlerts')!;
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        invokeFunction(evaluate, { id: `e-${i}`, 'detail-type': 'anomaly.opened', source: 'telltale', time: '2026-03-01T00:00:00Z', detail: episode(100 + i, { sensorId: 'pump-11-vibration', group: 'pump-11' }) }),
      ),
    );
    expect(results.flatMap((r) => (r as { outcomes: string[] }).outcomes).filter((o) => o === 'fired')).toHaveLength(1);
    await local.cloud.drain();
    expect(distinctKeys('POST /p11')).toBe(1);
    // PATCH moves it along its life cycle.
    const ack = await admin(`/monitoring/alerts/${rule.id}`, { method: 'PATCH', body: JSON.stringify({ state: 'acknowledged' }) });
    expect(((await ack.json()) as { alerts: { state: string }[] }).alerts).toMatchObject([{ state: 'acknowledged' }]);
    const resolved = await admin(`/monitoring/alerts/${rule.id}`, { method: 'PATCH', body: JSON.stringify({ state: 'resolved', subject: 'pump-11-vibration' }) });
    expect(((await resolved.json()) as { alerts: { state: string }[] }).alerts).toMatchObject([{ state: 'resolved' }]);
    const events = (await (await reader(`/monitoring/alerts/${rule.id}/events`)).json()) as { items: { type: string; by?: string }[] };
    expect(events.items.map((e) => e.type).sort()).toEqual(['acknowledged', 'fired', 'resolved']);
  });

  it('a failing webhook is retried with backoff, recorded as failed, sent to the dead-letter queue, with alert.delivery.failed', async () => {
    const rule = await createRule({ name: 'Failing', condition: { kind: 'pipelineFailed', pipeline: 'dataset' }, targets: [{ kind: 'webhook', url: 'http://127.0.0.1:9/unreachable' }] });
    put('pipeline.failed', { tenant: 'acme', datasetId: 'ds-1', runId: 'run-1', step: 'validate', cause: 'bad rows' });
    await until(() => (local.cloud.deadLetters('alertDeliveries').length > 0 ? true : undefined), 20_000);
    await local.cloud.drain();
    const events = (await (await reader(`/monitoring/alerts/${rule.id}/events`)).json()) as { items: { summary: string; deliveries: { status: string; attempts: number; lastError?: string }[] }[] };
    expect(events.items[0].summary).toContain('the dataset pipeline of ds-1 failed at validate: bad rows');
    expect(events.items[0].deliveries[0]).toMatchObject({ status: 'failed', attempts: 6 });
    expect(fired.filter((e) => e['detail-type'] === 'alert.delivery.failed' && e.detail.ruleId === rule.id)).toHaveLength(1);
  });

  it('the schedule fires a silent sensor and resolves it when readings come back', async () => {
    const rule = await createRule({ name: 'Silent', condition: { kind: 'sensorSilent', sensorId: 'pump-12-flow', expectedIntervalSeconds: 60, factor: 3 }, targets: [{ kind: 'sms', phoneNumber: '+4915112345678' }] });
    const tick = (time: string) => invokeFunction(local.cloud.functions.get('evaluateScheduledAlerts')!, { time });
    await tick(new Date().toISOString());
    await local.cloud.drain();
    const sms = local.cloud.outbox.entries().filter((e) => e.channel === 'sms' && e.to === '+4915112345678');
    expect(sms).toHaveLength(1);
    expect(sms[0].body).toContain('pump-12-flow has sent no reading for over about 3 minutes');
    const store = dynamoReadingsStore({ tableName: local.cloud.names.table('readings'), spanOf: async () => bucketSpanMs(60), retentionDays: 0 });
    await store.put('acme', 'pump-12-flow', [{ timestamp: Date.now() - 10_000, value: 1 }]);
    await tick(new Date().toISOString());
    const got = (await (await reader(`/monitoring/alerts/${rule.id}`)).json()) as { alerts: { state: string }[] };
    expect(got.alerts).toMatchObject([{ state: 'resolved' }]);
  });

  it('a rule with a minimum duration waits on the episode and the schedule fires it once due', async () => {
    const rule = await createRule({ name: 'Long', condition: { kind: 'anomalyOpened', on: { sensorId: 'pump-13-vibration' }, minDurationSeconds: 60 }, targets: [{ kind: 'webhook', url: `${local.cloud.webhookReceiver}/p13` }] });
    const start = new Date(Date.now() - 10_000).toISOString();
    put('anomaly.opened', episode(300, { sensorId: 'pump-13-vibration', group: 'pump-13', start, end: start }));
    await local.cloud.drain();
    const tick = (time: string) => invokeFunction(local.cloud.functions.get('evaluateScheduledAlerts')!, { time });
    await tick(new Date(Date.parse(start) + 30_000).toISOString());
    await local.cloud.drain();
    expect(distinctKeys('POST /p13')).toBe(0);
    await tick(new Date(Date.parse(start) + 61_000).toISOString());
    await local.cloud.drain();
    expect(distinctKeys('POST /p13')).toBe(1);
    const events = (await (await reader(`/monitoring/alerts/${rule.id}/events`)).json()) as { items: { summary: string }[] };
    expect(events.items[0].summary).toMatch(/lasting over 60 s$/);
  });

  it('shows the outbox at /local/outbox', async () => {
    const page = await fetch(`${local.cloud.url}/local/outbox`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('pump10@example.com');
    expect(html).toContain('signature valid');
    const json = (await (await fetch(`${local.cloud.url}/local/outbox.json`)).json()) as { items: unknown[] };
    expect(json.items.length).toBeGreaterThan(0);
  });
});
