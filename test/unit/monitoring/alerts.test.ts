import { describe, expect, it } from 'vitest';
import { backoffSeconds, deliverAlert, signWebhook, verifyWebhook, webhookBody, type WebhookPost } from '../../../shared/monitoring/alertDelivery.js';
import { memoryAlertStore } from '../../../shared/monitoring/alertMemoryStore.js';
import { alertCondition, newAlertRule } from '../../../shared/monitoring/alertRule.js';
import { aboutDuration, evaluateScheduledRule, predictCrossing } from '../../../shared/monitoring/alertSchedule.js';
import { ruleKeyOf, signalOf } from '../../../shared/monitoring/alertSignals.js';
import type { StoredRule } from '../../../shared/monitoring/alertStore.js';
import { evaluateSignal, fireDueWatches, type DeliveryMessage } from '../../../shared/monitoring/alerts.js';
import type { EventPublisher } from '../../../shared/platform/events.js';

const published: { type: string; detail: Record<string, unknown> }[] = [];
const events: EventPublisher = { publish: async (type, detail) => void published.push({ type, detail }) };

function rule(id: string, condition: unknown, cooldownSeconds = 600): StoredRule {
  return {
    id,
    name: id,
    condition: alertCondition.parse(condition),
    targets: [{ kind: 'webhook', url: 'https://hooks.example.com/x', format: 'json', secretHint: '...abcd', secretId: 'sec-1' }],
    cooldownSeconds,
    enabled: true,
    createdAt: '2026-03-01T00:00:00.000Z',
    updatedAt: '2026-03-01T00:00:00.000Z',
  };
}

const opened = (episode: number, overrides: Record<string, unknown> = {}) =>
  signalOf('anomaly.opened', `event-${episode}`, {
    tenant: 'acme',
    episodeId: `ep-${episode}`,
    sensorId: 'pump-1-vibration',
    group: 'pump-1',
    start: '2026-03-01T00:00:00.000Z',
    peakScore: 0.95,
    severity: 'critical',
    model: { name: 'streaming', version: '1' },
    ...overrides,
  })!;
const closed = (episode: number) =>
  signalOf('anomaly.closed', `event-c${episode}`, { tenant: 'acme', episodeId: `ep-${episode}`, sensorId: 'pump-1-vibration', start: '2026-03-01T00:00:00.000Z', peakScore: 0.95, severity: 'critical' })!;

function firingDeps() {
  const store = memoryAlertStore();
  const queued: DeliveryMessage[] = [];
  return { store, queued, deps: { store, events, deliveries: { enqueue: async (m: readonly DeliveryMessage[]) => void queued.push(...m) } } };
}

describe('webhook signatures', () => {
  const body = '{"alertId":"al-1"}';
  const now = 1_770_000_000;
  const signature = signWebhook('whsec_test', String(now), body);

  it('signs HMAC-SHA256 over timestamp.body, as a versioned header a receiver verifies', () => {
    expect(signature).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(verifyWebhook('whsec_test', { timestamp: String(now), signature }, body, now)).toBe(true);
  });

  it('refuses a wrong secret, a changed body, a replayed old timestamp and malformed headers', () => {
    expect(verifyWebhook('whsec_other', { timestamp: String(now), signature }, body, now)).toBe(false);
    expect(verifyWebhook('whsec_test', { timestamp: String(now), signature }, `${body} `, now)).toBe(false);
    expect(verifyWebhook('whsec_test', { timestamp: String(now), signature }, body, now + 301)).toBe(false);
    expect(verifyWebhook('whsec_test', { timestamp: 'x', signature }, body, now)).toBe(false);
    expect(verifyWebhook('whsec_test', { timestamp: String(now) }, body, now)).toBe(false);
  });
});

describe('alert rules: schemas and index keys', () => {
  it('files rules under the key of what they watch, and scheduled kinds under the schedule', () => {
    expect(ruleKeyOf(alertCondition.parse({ kind: 'anomalyOpened', on: { group: 'pump-1' } }))).toBe('group:pump-1');
    expect(ruleKeyOf(alertCondition.parse({ kind: 'driftDetected' }))).toBe('drift:*');
    expect(ruleKeyOf(alertCondition.parse({ kind: 'sensorSilent', sensorId: 's', expectedIntervalSeconds: 10 }))).toBe('schedule');
    expect(opened(1).keys).toEqual(['sensor:pump-1-vibration', 'group:pump-1', 'model:streaming']);
  });

  it('refuses ambiguous conditions and defaults the rest', () => {
    expect(alertCondition.safeParse({ kind: 'readingLimit', sensorId: 's', above: 1, below: 0, forMinutes: 5 }).success).toBe(false);
    expect(alertCondition.safeParse({ kind: 'anomalyOpened', on: {} }).success).toBe(false);
    const parsed = newAlertRule.parse({ name: ' n ', condition: { kind: 'pipelineFailed' }, targets: [{ kind: 'webhook', url: 'https://x.example.com' }] });
    expect(parsed).toMatchObject({ name: 'n', cooldownSeconds: 900, enabled: true, targets: [{ format: 'json' }] });
  });

  it('reads a training failure as the training pipeline of its model', () => {
    const signal = signalOf('pipeline.failed', 'e1', { pipeline: 'training', tenant: 'acme', modelId: 'm-1', jobId: 'j-1', step: 'fit', cause: 'too few rows' })!;
    expect(signal).toMatchObject({ keys: ['pipeline:training', 'pipeline:*'], subject: 'm-1', occurrence: 'run:j-1' });
    expect(signal.summary).toBe('the training pipeline of m-1 failed at fit: too few rows');
    expect(signalOf('model.registered', 'e2', {})).toBeUndefined();
  });
});

describe('evaluation: de-duplication, cool-down, resolution', () => {
  it('fires once per rule and subject while open, resolves on anomaly.closed, stays quiet in the cool-down, fires after it', async () => {
    const { store, queued, deps } = firingDeps();
    await store.createRule('acme', rule('r1', { kind: 'anomalyOpened', on: { sensorId: 'pump-1-vibration' } }, 600));
    expect(await evaluateSignal(deps, opened(1), '2026-03-01T00:00:00.000Z')).toEqual(['fired']);
    expect(await evaluateSignal(deps, opened(2), '2026-03-01T00:01:00.000Z')).toEqual(['suppressed']);
    // A retry of the first occurrence re-takes its own claim (same alert id, same idempotency keys).
    expect(await evaluateSignal(deps, opened(1), '2026-03-01T00:00:00.000Z')).toEqual(['fired']);
    expect(new Set(queued.map((m) => m.idempotencyKey)).size).toBe(1);
    expect(await evaluateSignal(deps, closed(1), '2026-03-01T00:02:00.000Z')).toEqual(['resolved']);
    expect(await evaluateSignal(deps, opened(3), '2026-03-01T00:05:00.000Z')).toEqual(['suppressed']);
    expect(await evaluateSignal(deps, opened(4), '2026-03-01T00:12:00.000Z')).toEqual(['fired']);
    expect(new Set(queued.map((m) => m.idempotencyKey)).size).toBe(2);
    const [alert] = await store.alertsOf('acme', 'r1');
    expect(alert).toMatchObject({ state: 'open', openedAt: '2026-03-01T00:12:00.000Z' });
  });

  it('applies minimum severity and peak score, and leaves other tenants and disabled rules alone', async () => {
    const { store, deps } = firingDeps();
    await store.createRule('acme', rule('severe', { kind: 'anomalyOpened', on: { group: 'pump-1' }, minSeverity: 'critical' }));
    await store.createRule('acme', rule('peaky', { kind: 'anomalyOpened', on: { model: 'streaming' }, minPeakScore: 0.9 }));
    await store.createRule('acme', { ...rule('off', { kind: 'anomalyOpened', on: { sensorId: 'pump-1-vibration' } }), enabled: false });
    await store.createRule('globex', rule('theirs', { kind: 'anomalyOpened', on: { sensorId: 'pump-1-vibration' } }));
    expect(await evaluateSignal(deps, opened(1, { severity: 'major', peakScore: 0.8 }), '2026-03-01T00:00:00.000Z')).toEqual([]);
    expect(await evaluateSignal(deps, opened(2, { severity: 'major', peakScore: 0.92 }), '2026-03-01T00:00:00.000Z')).toEqual(['fired']);
  });
});

describe('a minimum duration', () => {
  it('waits on a young episode, fires it from the schedule once it has lasted the minimum, and never fires one that closed sooner', async () => {
    const { store, queued, deps } = firingDeps();
    await store.createRule('acme', rule('long', { kind: 'anomalyOpened', on: { group: 'pump-1' }, minDurationSeconds: 300 }));
    const young = (n: number, start: string) => opened(n, { start, end: start });
    expect(await evaluateSignal(deps, young(1, '2026-03-01T00:00:00.000Z'), '2026-03-01T00:00:00.000Z')).toEqual(['watching']);
    expect(await fireDueWatches(deps, '2026-03-01T00:04:59.000Z')).toEqual([]);
    expect(await fireDueWatches(deps, '2026-03-01T00:05:00.000Z')).toEqual(['fired']);
    expect(queued.map((m) => m.summary)).toEqual(['critical anomaly on pump-1-vibration since 2026-03-01T00:00:00.000Z (peak score 0.95), lasting over 300 s']);
    expect(await fireDueWatches(deps, '2026-03-01T00:06:00.000Z')).toEqual([]);
    // An episode of another sensor that closes after two minutes never pages.
    const other = { sensorId: 'pump-1-pressure' };
    expect(await evaluateSignal(deps, opened(2, { ...other, start: '2026-03-01T01:00:00.000Z', end: '2026-03-01T01:00:00.000Z' }), '2026-03-01T01:00:00.000Z')).toEqual(['watching']);
    const closing = signalOf('anomaly.closed', 'c2', { tenant: 'acme', episodeId: 'ep-2', sensorId: 'pump-1-pressure', group: 'pump-1', start: '2026-03-01T01:00:00.000Z', peakScore: 0.95, severity: 'critical' })!;
    await evaluateSignal(deps, closing, '2026-03-01T01:02:00.000Z');
    expect(await fireDueWatches(deps, '2026-03-01T02:00:00.000Z')).toEqual([]);
    // An episode already long enough when its event arrives fires at once.
    expect(await evaluateSignal(deps, opened(3, { sensorId: 'pump-1-flow', start: '2026-03-01T03:00:00.000Z', end: '2026-03-01T03:06:00.000Z' }), '2026-03-01T03:06:00.000Z')).toEqual(['fired']);
  });
});

describe('scheduled conditions', () => {
  const hour = 3_600_000;
  const t0 = Date.parse('2026-03-01T00:00:00Z');
  // A bearing wearing out: vibration rising 0.01 mm/s an hour from 4.6, with a little noise (6.27 at the last of a week of hours).
  const rising = Array.from({ length: 24 * 7 }, (_, i) => ({ timestamp: t0 + i * hour, value: 4.6 + 0.01 * i + 0.01 * Math.sin(i) }));
  const now = t0 + 24 * 7 * hour;

  it('predicts when a rising series will pass its limit, with the forecast interval', () => {
    const condition = alertCondition.parse({ kind: 'predictedCrossing', sensorId: 'pump-1-vibration', above: 7, horizonHours: 24 * 14 });
    const verdict = predictCrossing(condition as Extract<typeof condition, { kind: 'predictedCrossing' }>, rising, now);
    if (!verdict?.fire) throw new Error(`no crossing predicted: ${verdict?.summary}`);
    // 4.6 + 0.01 * i reaches 7 at i = 240, about 3 days after the last of 168 hourly points.
    const expectedAt = Date.parse(verdict.facts.expectedAt as string);
    expect(Math.abs(expectedAt - (t0 + 240 * hour)) / hour).toBeLessThan(12);
    expect(verdict.summary).toMatch(/^pump-1-vibration will pass 7 in about 3 days \(95 % interval: from about \d+ (hours|days) to about \d+ (hours|days)\)$/);
  });

  it('does not fire when the forecast stays under the limit within the horizon', () => {
    const condition = alertCondition.parse({ kind: 'predictedCrossing', sensorId: 'pump-1-vibration', above: 7, horizonHours: 24 });
    expect(predictCrossing(condition as Extract<typeof condition, { kind: 'predictedCrossing' }>, rising, now)?.fire).toBe(false);
  });

  it('fires a reading beyond its limit for N minutes, and resolves when one reading is back', async () => {
    const { store, deps } = firingDeps();
    const limitRule = rule('hot', { kind: 'readingLimit', sensorId: 's1', above: 80, forMinutes: 5 }) as StoredRule & { condition: { kind: 'readingLimit'; sensorId: string } };
    await store.createRule('acme', limitRule);
    let values = [85, 86, 90];
    const readings = async function* () {
      for (const [i, value] of values.entries()) yield { timestamp: now - (3 - i) * 60_000, value };
    };
    const full = { ...deps, readings };
    expect(await evaluateScheduledRule(full, 'acme', limitRule, new Date(now).toISOString())).toBe('fired');
    values = [85, 79, 90];
    expect(await evaluateScheduledRule(full, 'acme', limitRule, new Date(now + 60_000).toISOString())).toBe('resolved');
    values = [];
    expect(await evaluateScheduledRule(full, 'acme', limitRule, new Date(now + 120_000).toISOString())).toBe('unchanged');
  });

  it('says durations in words', () => {
    expect(aboutDuration(3 * 24 * 3_600_000)).toBe('about 3 days');
    expect(aboutDuration(5 * 3_600_000)).toBe('about 5 hours');
    expect(aboutDuration(60_000)).toBe('about 1 minute');
  });
});

describe('delivery', () => {
  const message: DeliveryMessage = {
    tenant: 'acme',
    ruleId: 'r1',
    ruleName: 'Pump 1',
    alertId: 'al-1',
    at: '2026-03-01T00:00:00.000Z',
    subject: 'pump-1-vibration',
    summary: 'critical anomaly on pump-1-vibration',
    facts: { peakScore: 0.95 },
    targetIndex: 0,
    target: { kind: 'webhook', url: 'https://hooks.example.com/x', format: 'json', secretHint: '...cret', secretId: 'sec-1' },
    idempotencyKey: 'al-1.0',
  };

  async function deliveryDeps(post: WebhookPost) {
    const store = memoryAlertStore();
    await store.addEvent('acme', 'r1', { type: 'fired', alertId: 'al-1', subject: 'pump-1-vibration', at: message.at, summary: 's', deliveries: [{ target: 0, kind: 'webhook', status: 'pending', attempts: 0, idempotencyKey: 'al-1.0' }] });
    const notifier = { subscribe: async () => undefined, publish: async () => undefined };
    return { store, deps: { store, post, events, notifier, secrets: { get: async () => 'whsec_secret', put: async () => undefined, remove: async () => undefined } } };
  }
  const statusOf = async (store: ReturnType<typeof memoryAlertStore>) => (await store.events('acme', 'r1', { limit: 10 })).items[0].deliveries![0];

  it('posts a signed body with the idempotency key, and records the delivery', async () => {
    const seen: { body: string; headers: Record<string, string> }[] = [];
    const { store, deps } = await deliveryDeps(async (_url, body, headers) => (seen.push({ body, headers }), 204));
    await deliverAlert(deps, message, { number: 1, last: false });
    expect(seen[0].headers['idempotency-key']).toBe('al-1.0');
    expect(verifyWebhook('whsec_secret', { timestamp: seen[0].headers['telltale-timestamp'], signature: seen[0].headers['telltale-signature'] }, seen[0].body)).toBe(true);
    expect(JSON.parse(seen[0].body)).toMatchObject({ type: 'alert.fired', alertId: 'al-1', rule: { id: 'r1', name: 'Pump 1' } });
    expect(await statusOf(store)).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('records a failure as retrying, the last one as failed with alert.delivery.failed, and a late failure never overwrites a success', async () => {
    const { store, deps } = await deliveryDeps(async () => 503);
    await expect(deliverAlert(deps, message, { number: 1, last: false })).rejects.toThrow('The webhook answered 503');
    expect(await statusOf(store)).toMatchObject({ status: 'retrying', attempts: 1, lastError: 'DeliveryFailedError: The webhook answered 503' });
    published.length = 0;
    await expect(deliverAlert(deps, message, { number: 6, last: true })).rejects.toThrow();
    expect(await statusOf(store)).toMatchObject({ status: 'failed', attempts: 6 });
    expect(published).toMatchObject([{ type: 'alert.delivery.failed', detail: { alertId: 'al-1', target: 0 } }]);
    const recovered = await deliveryDeps(async () => 200);
    await deliverAlert(recovered.deps, message, { number: 2, last: false });
    await expect(deliverAlert({ ...recovered.deps, post: async () => 500 }, message, { number: 3, last: false })).rejects.toThrow();
    expect(await statusOf(recovered.store)).toMatchObject({ status: 'delivered', attempts: 2 });
  });

  it('backs off doubling from the base', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffSeconds(n, 30))).toEqual([30, 60, 120, 240, 480]);
    expect(backoffSeconds(30, 30)).toBe(43_200);
  });

  it('writes a Slack-compatible body on request', () => {
    expect(JSON.parse(webhookBody(message, 'slack'))).toMatchObject({ text: ':rotating_light: *Pump 1*: critical anomaly on pump-1-vibration', blocks: [{ type: 'section' }, { type: 'context' }] });
  });
});
