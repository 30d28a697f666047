import { createHmac, timingSafeEqual } from 'node:crypto';
import { detailTypes, type EventPublisher } from '../platform/events.js';
import { deliveryMessage, type AlertNotifier, type DeliveryMessage } from './alerts.js';
import type { AlertSecrets, AlertStore } from './alertStore.js';

/** Headers of a webhook delivery. Receivers check the signature over `${timestamp}.${body}` and refuse old timestamps (replays). */
export const webhookHeaders = {
  timestamp: 'telltale-timestamp',
  signature: 'telltale-signature',
  idempotencyKey: 'idempotency-key',
} as const;

/** Receivers should refuse a timestamp further than this from their clock. */
export const signatureToleranceSeconds = 300;

const hmac = (secret: string, timestamp: string, body: string) => createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');

/** The signature header's value: `v1=` and the hex HMAC-SHA256 of `${timestamp}.${body}` (versioned, so the scheme can change). */
export const signWebhook = (secret: string, timestamp: string, body: string) => `v1=${hmac(secret, timestamp, body)}`;

/** The receiver's check: a v1 signature that matches, on a timestamp within the tolerance. */
export function verifyWebhook(secret: string, headers: { timestamp?: string; signature?: string }, body: string, nowSeconds = Date.now() / 1000): boolean {
  const { timestamp, signature } = headers;
  if (!timestamp || !signature || !/^\d+$/.test(timestamp) || Math.abs(nowSeconds - Number(timestamp)) > signatureToleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The JSON body, or a Slack-compatible one (incoming webhooks take `text`, and `blocks` when given). */
export function webhookBody(message: DeliveryMessage, format: 'json' | 'slack'): string {
  if (format === 'slack') {
    const text = `:rotating_light: *${message.ruleName}*: ${message.summary}`;
    return JSON.stringify({
      text,
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: `alert ${message.alertId} · ${message.subject} · ${message.at}` }] },
      ],
    });
  }
  return JSON.stringify({
    type: 'alert.fired',
    alertId: message.alertId,
    rule: { id: message.ruleId, name: message.ruleName },
    subject: message.subject,
    summary: message.summary,
    at: message.at,
    facts: message.facts,
    ...(message.correlationId ? { correlationId: message.correlationId } : {}),
  });
}

/** Sends an HTTP POST; the status the receiver answered (a network error throws). */
export type WebhookPost = (url: string, body: string, headers: Record<string, string>) => Promise<number>;

/** A POST with a timeout: a receiver that hangs is a failed attempt, retried later. */
export const fetchWebhookPost =
  (timeoutMs = 5000): WebhookPost =>
  async (url, body, headers) => {
    const response = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    await response.arrayBuffer().catch(() => undefined);
    return response.status;
  };

export class DeliveryFailedError extends Error {
  override readonly name = 'DeliveryFailedError';
}

export interface DeliveryDeps {
  store: AlertStore;
  secrets: AlertSecrets;
  notifier: AlertNotifier;
  post: WebhookPost;
  events: EventPublisher;
  now?: () => Date;
}

/**
 * Delivers one notification and records the outcome on the alert's fired event. A failure is
 * recorded as retrying (the queue brings the message back later) or, on the last attempt, failed,
 * with `alert.delivery.failed` on the bus; then it throws, so the queue sees it.
 */
export async function deliverAlert(deps: DeliveryDeps, message: DeliveryMessage, attempt: { number: number; last: boolean }): Promise<void> {
  const now = () => deps.now?.() ?? new Date();
  const ref = { ruleId: message.ruleId, alertId: message.alertId, at: message.at };
  const status = { target: message.targetIndex, kind: message.target.kind, attempts: attempt.number, idempotencyKey: message.idempotencyKey };
  try {
    const target = message.target;
    if (target.kind === 'webhook') {
      const secret = await deps.secrets.get(message.tenant, target.secretId ?? '');
      const body = webhookBody(message, target.format);
      const timestamp = String(Math.floor(now().getTime() / 1000));
      const answered = await deps.post(target.url, body, {
        'content-type': 'application/json',
        'user-agent': 'Telltale-Alerts/1',
        [webhookHeaders.timestamp]: timestamp,
        [webhookHeaders.signature]: signWebhook(secret, timestamp, body),
        [webhookHeaders.idempotencyKey]: message.idempotencyKey,
      });
      if (answered < 200 || answered > 299) throw new DeliveryFailedError(`The webhook answered ${answered}`);
    } else {
      await deps.notifier.publish(message.tenant, target, `Telltale: ${message.ruleName}`, `${message.ruleName}: ${message.summary} (alert ${message.alertId}, ${message.at})`);
    }
  } catch (error) {
    const lastError = (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 500);
    await deps.store.setDelivery(message.tenant, ref, { ...status, status: attempt.last ? 'failed' : 'retrying', lastError, at: now().toISOString() });
    if (attempt.last) {
      await deps.events.publish(detailTypes.alertDeliveryFailed, { tenant: message.tenant, ruleId: message.ruleId, alertId: message.alertId, target: message.targetIndex, kind: message.target.kind, error: lastError, ...(message.correlationId ? { correlationId: message.correlationId } : {}) });
    }
    throw error;
  }
  await deps.store.setDelivery(message.tenant, ref, { ...status, status: 'delivered', at: now().toISOString() });
}

/** Seconds before the next attempt: doubling from `baseSeconds`, capped at SQS's 12-hour visibility limit. */
export const backoffSeconds = (attempt: number, baseSeconds: number) => Math.min(43_200, baseSeconds * 2 ** Math.max(0, attempt - 1));

/** A message of the delivery queue as its consumer receives it (the fields of an SQS record it reads). */
export interface QueuedDelivery {
  body: string;
  receiptHandle: string;
  attributes: { ApproximateReceiveCount: string };
}

export interface RetryPolicy {
  /** The queue's maxReceiveCount: the attempt that reaches it is the last, then the dead-letter queue. */
  maxReceiveCount: number;
  baseSeconds: number;
  /** Keeps the message invisible this long (SQS ChangeMessageVisibility): the backoff. */
  retryLater(receiptHandle: string, seconds: number): Promise<void>;
}

/**
 * One message of the delivery queue: deliver it; when that fails and attempts remain, set its
 * visibility to the backoff before failing it, so the queue brings it back then (and, after the
 * last attempt, moves it to the dead-letter queue).
 */
export async function deliverQueued(deps: DeliveryDeps, record: QueuedDelivery, policy: RetryPolicy): Promise<void> {
  const attempt = Number(record.attributes.ApproximateReceiveCount);
  const last = attempt >= policy.maxReceiveCount;
  try {
    await deliverAlert(deps, deliveryMessage.parse(JSON.parse(record.body)), { number: attempt, last });
  } catch (error) {
    if (!last) await policy.retryLater(record.receiptHandle, backoffSeconds(attempt, policy.baseSeconds));
    throw error;
  }
}
