import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalFunction } from '../../local/lambdaRuntime.js';
import { QueueDispatcher } from '../../local/queueDispatcher.js';
import { createRng } from '../../shared/ml/multivariate/rng.js';
import { deliverQueued, fetchWebhookPost } from '../../shared/monitoring/alertDelivery.js';
import { memoryAlertStore } from '../../shared/monitoring/alertMemoryStore.js';
import { alertCondition } from '../../shared/monitoring/alertRule.js';
import type { StoredRule } from '../../shared/monitoring/alertStore.js';
import { fireAlert } from '../../shared/monitoring/alerts.js';
import { queues } from '../../shared/platform/resources.js';

/**
 * 10,000 alerts against a receiver that fails 30 % of its requests, through the delivery queue as
 * the local cloud runs it (batches, partial batch failures, visibility timeouts, receive counts,
 * the dead-letter queue) and the deliverer's own code (deliverQueued: the signed POST over HTTP,
 * the backoff, the statuses). The stores are the in-memory ones: DynamoDB's part is covered on the
 * local cloud in alerts.test.ts, and here it would only make 14,000 deliveries slower.
 */
const alerts = 10_000;
const failureRate = 0.3;
// Visibility timeouts of 360 ms and backoffs from 2 ms: the retries of a few seconds of test.
const timeScale = 0.002;

const requests: { key: string; alertId: string; ok: boolean }[] = [];
let receiver: Server;
let receiverUrl: string;

beforeAll(async () => {
  const draw = createRng(7);
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const ok = draw() >= failureRate;
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alertId: string };
      requests.push({ key: String(request.headers['idempotency-key']), alertId: body.alertId, ok });
      response.writeHead(ok ? 200 : 503).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

async function drained(dispatcher: QueueDispatcher, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!dispatcher.idle()) {
    if (Date.now() > until) throw new Error(`deliveries still pending after ${timeoutMs} ms: ${JSON.stringify(dispatcher.stats('alertDeliveries'))}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('alert delivery under a receiver that fails 30 % of the time', () => {
  it('delivers 10,000 alerts at least once each, with the same idempotency key on every retry, and loses none', async () => {
    const dispatcher = new QueueDispatcher([{ declaration: queues.alertDeliveries, physicalName: 'alertDeliveries' }], { timeScale });
    const store = memoryAlertStore();
    const failed: Record<string, unknown>[] = [];
    const deps = {
      store,
      secrets: { get: async () => 'whsec_reliability', put: async () => undefined, remove: async () => undefined },
      notifier: { subscribe: async () => undefined, publish: async () => undefined },
      post: fetchWebhookPost(),
      events: { publish: async (type: string, detail: Record<string, unknown>) => void (type === 'alert.delivery.failed' && failed.push(detail)) },
    };
    const policy = { maxReceiveCount: queues.alertDeliveries.maxReceiveCount, baseSeconds: 1, retryLater: async (handle: string, seconds: number) => void dispatcher.changeVisibility('alertDeliveries', handle, seconds) };
    // deliverAlerts' batch handling, on the deliverer's code.
    const deliverer: LocalFunction = {
      spec: { name: 'deliverAlerts', memoryMb: 256, timeoutSeconds: 30 },
      handler: (event: never) => processPartialResponse(event as SQSEvent, (record: SQSRecord) => deliverQueued(deps, record, policy), new BatchProcessor(EventType.SQS)),
    };
    dispatcher.subscribe('alertDeliveries', { fn: deliverer, batchSize: 10, maxBatchingWindowSeconds: 0 });
    try {
      const rule: StoredRule = {
        id: 'ar-reliability',
        name: 'Every anomaly',
        condition: alertCondition.parse({ kind: 'anomalyOpened', on: { model: 'streaming' } }),
        targets: [{ kind: 'webhook', url: receiverUrl, format: 'json', secretHint: '...lity', secretId: 'sec-1' }],
        cooldownSeconds: 900,
        enabled: true,
        createdAt: '2026-03-01T00:00:00.000Z',
        updatedAt: '2026-03-01T00:00:00.000Z',
      };
      await store.createRule('acme', rule);
      const firing = { store, events: deps.events, deliveries: { enqueue: async (messages: readonly unknown[]) => void messages.forEach((m) => dispatcher.send('alertDeliveries', { body: JSON.stringify(m) })) } };
      const at = '2026-03-01T00:00:00.000Z';
      for (let i = 0; i < alerts; i++) await fireAlert(firing, 'acme', rule, { subject: `sensor-${i}`, occurrence: `episode:${i}`, summary: 'anomaly', facts: {}, at });

      // About 14,000 requests: some seconds on a quiet machine, a minute or two on a busy one.
      await drained(dispatcher, 150_000);
      // What used up its six attempts waits in the dead-letter queue, with alert.delivery.failed: nothing is dropped. Redriven, it is delivered.
      // (A delivery received again while its attempt still ran, as SQS may do, can report a failure twice: compare alerts, not counts.)
      const deadLettered = new Set(dispatcher.deadLetters('alertDeliveries').map((m) => (JSON.parse(m.body) as { alertId: string }).alertId));
      expect([...deadLettered].filter((alertId) => !failed.some((f) => f.alertId === alertId))).toEqual([]);
      while (dispatcher.deadLetters('alertDeliveries').length > 0) {
        dispatcher.redrive('alertDeliveries');
        await drained(dispatcher, 30_000);
      }

      const keys = new Set(requests.map((r) => r.key));
      const delivered = new Set(requests.filter((r) => r.ok).map((r) => r.key));
      expect(keys.size).toBe(alerts);
      expect(delivered.size).toBe(alerts);
      // Every attempt of an alert carries its one key (the alert id and the target), whatever the attempt.
      expect(requests.every((r) => r.key === `${r.alertId}.0`)).toBe(true);
      expect(requests.length - alerts).toBeGreaterThan(alerts * failureRate * 0.8);
      // Counted by the alerts' own records too: every fired event's delivery ends delivered.
      const statuses = (await store.events('acme', rule.id, { limit: alerts })).items.map((e) => e.deliveries?.[0].status);
      expect(statuses).toHaveLength(alerts);
      expect(statuses.every((s) => s === 'delivered')).toBe(true);
    } finally {
      dispatcher.stop();
    }
  }, 200_000);
});
