import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqsAlertDeliveryQueue } from '../../shared/aws/alertNotifications.js';
import { dynamoAlertStore } from '../../shared/aws/alertRepository.js';
import { memoryAlertStore } from '../../shared/monitoring/alertMemoryStore.js';
import { fireAlert, type DeliveryMessage } from '../../shared/monitoring/alerts.js';
import { createRng } from '../../shared/ml/multivariate/rng.js';
import { useLocalCloud } from './localCloudFixture.js';

// Retries back off from 1 s, 10 ms at this time scale; a visibility timeout is 1.8 s, longer than a batch takes on a busy machine.
process.env.ALERT_RETRY_BASE_SECONDS = '1';
const local = useLocalCloud({ timeScale: 0.01 });
const alerts = Number(process.env.ALERTS_N ?? 10_000);
const failureRate = 0.3;

/** Every request the receiver saw: its idempotency key, the alert id of its body, and whether it answered 2xx. */
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

describe('alert delivery under a receiver that fails 30 % of the time', () => {
  it('delivers 10,000 alerts at least once each, with the same idempotency key on every retry, and loses none', async () => {
    const admin = await local.client('acme');
    const created = (await (
      await admin('/monitoring/alerts', { method: 'POST', body: JSON.stringify({ name: 'Every anomaly', condition: { kind: 'anomalyOpened', on: { model: 'streaming' } }, targets: [{ kind: 'webhook', url: receiverUrl }] }) })
    ).json()) as { id: string };
    const rule = (await dynamoAlertStore(local.cloud.names.table('monitoring')).getRule('acme', created.id))!;

    // Fire 10,000 alerts (one per sensor) the way the evaluator does: claims, then the messages on the real delivery queue.
    // The messages are sent ten to a SendMessageBatch (one alert's messages at a time is what the evaluator sends).
    const queue = sqsAlertDeliveryQueue(local.cloud.names.queue('alertDeliveries'));
    const outgoing: DeliveryMessage[] = [];
    const deps = { store: memoryAlertStore(), deliveries: { enqueue: async (m: readonly DeliveryMessage[]) => void outgoing.push(...m) }, events: { publish: async () => undefined } };
    const at = new Date().toISOString();
    for (let i = 0; i < alerts; i++) await fireAlert(deps, 'acme', rule, { subject: `sensor-${i}`, occurrence: `episode:${i}`, summary: 'anomaly', facts: {}, at });
    for (let i = 0; i < outgoing.length; i += 100) await Promise.all(Array.from({ length: 10 }, (_, j) => queue.enqueue(outgoing.slice(i + j * 10, i + j * 10 + 10))));
    await local.cloud.drain(200_000);

    // What exhausted its six attempts waits in the dead-letter queue: nothing is dropped. Redriven, it is delivered.
    const deadLettered = local.cloud.deadLetters('alertDeliveries').length;
    while (local.cloud.deadLetters('alertDeliveries').length > 0) {
      local.cloud.queues.redrive('alertDeliveries');
      await local.cloud.drain(30_000);
    }

    const keys = new Set(requests.map((r) => r.key));
    const delivered = new Set(requests.filter((r) => r.ok).map((r) => r.key));
    expect(keys.size).toBe(alerts);
    expect(delivered.size).toBe(alerts);
    // Each retry carries its alert's one key: the key is the alert id and the target, whatever the attempt.
    expect(requests.every((r) => r.key === `${r.alertId}.0`)).toBe(true);
    const retried = requests.length - alerts;
    expect(retried).toBeGreaterThan(alerts * failureRate * 0.8);
    expect(deadLettered).toBeLessThan(alerts * 0.01);
  }, 240_000);
});
