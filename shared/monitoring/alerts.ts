import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { NotFoundError } from '../platform/errors.js';
import { detailTypes, type EventPublisher } from '../platform/events.js';
import type { Page } from '../platform/page.js';
import { alertTarget, type AlertEvent, type AlertRule, type AlertRuleChanges, type AlertStatus, type DeliveryStatus, type NewAlertRule, type TargetInput } from './alertRule.js';
import type { AlertSignal } from './alertSignals.js';
import type { AlertSecrets, AlertStore, StoredRule, StoredTarget } from './alertStore.js';

/** A notification on its way to one target: one message per (alert, target), its idempotency key fixed. */
export const deliveryMessage = z.object({
  tenant: z.string(),
  ruleId: z.string(),
  ruleName: z.string(),
  alertId: z.string(),
  at: z.iso.datetime(),
  subject: z.string(),
  summary: z.string(),
  facts: z.record(z.string(), z.unknown()),
  correlationId: z.string().optional(),
  targetIndex: z.number().int(),
  target: alertTarget.and(z.object({ secretId: z.string().optional() })),
  /** The same on every retry of this notification, so receivers can drop repeats. */
  idempotencyKey: z.string(),
});
export type DeliveryMessage = z.infer<typeof deliveryMessage>;

/** The delivery queue (SQS with its dead-letter queue on AWS). */
export interface AlertDeliveryQueue {
  enqueue(messages: readonly DeliveryMessage[]): Promise<void>;
}

/** Email and SMS through the tenant's SNS topic. */
export interface AlertNotifier {
  /** Subscribes the address or number to the tenant's topic, for its own notifications only. */
  subscribe(tenant: string, target: Extract<StoredTarget, { kind: 'email' | 'sms' }>): Promise<void>;
  publish(tenant: string, target: Extract<StoredTarget, { kind: 'email' | 'sms' }>, subject: string, message: string): Promise<void>;
}

export interface RuleDeps {
  store: AlertStore;
  secrets: AlertSecrets;
  notifier: AlertNotifier;
  now?: () => Date;
}

export interface FiringDeps {
  store: AlertStore;
  deliveries: AlertDeliveryQueue;
  events: EventPublisher;
}

const hex = (text: string, length: number) => createHash('sha256').update(text).digest('hex').slice(0, length);
const newId = (prefix: string) => `${prefix}-${randomBytes(12).toString('hex')}`;
/** Secrets look like Stripe's and GitHub's: a prefix that says what they are, then 32 random bytes. */
const newSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;

/** A rule as the API shows it: no secret reference. */
export function publicRule(rule: StoredRule): AlertRule {
  return { ...rule, targets: rule.targets.map(({ secretId: _hidden, ...target }) => target) };
}

/** Stores the targets' secrets (given or generated) and subscribes email and SMS targets; answers the stored targets and the secrets to show once. */
async function storeTargets(deps: RuleDeps, tenant: string, targets: readonly TargetInput[]) {
  const secrets: { target: number; secret: string }[] = [];
  const stored: StoredTarget[] = [];
  for (const [index, target] of targets.entries()) {
    if (target.kind === 'webhook') {
      const { secret: given, ...rest } = target;
      const secret = given ?? newSecret();
      const secretId = newId('sec');
      await deps.secrets.put(tenant, secretId, secret);
      if (!given) secrets.push({ target: index, secret });
      stored.push({ ...rest, secretId, secretHint: `...${secret.slice(-4)}` });
    } else {
      await deps.notifier.subscribe(tenant, target);
      stored.push(target);
    }
  }
  return { stored, secrets };
}

async function removeSecrets(deps: RuleDeps, tenant: string, targets: readonly StoredTarget[]) {
  for (const t of targets) if (t.secretId) await deps.secrets.remove(tenant, t.secretId);
}

export async function createAlertRule(deps: RuleDeps, tenant: string, input: NewAlertRule) {
  const now = (deps.now?.() ?? new Date()).toISOString();
  const { stored, secrets } = await storeTargets(deps, tenant, input.targets);
  const rule: StoredRule = { id: newId('ar'), name: input.name, condition: input.condition, targets: stored, cooldownSeconds: input.cooldownSeconds, enabled: input.enabled, createdAt: now, updatedAt: now };
  await deps.store.createRule(tenant, rule);
  return { ...publicRule(rule), secrets };
}

async function requireRule(store: AlertStore, tenant: string, id: string): Promise<StoredRule> {
  const rule = await store.getRule(tenant, id);
  if (!rule) throw new NotFoundError(`No alert rule "${id}".`);
  return rule;
}

export async function listAlertRules(store: AlertStore, tenant: string, page: { limit: number; cursor?: string }): Promise<Page<AlertRule>> {
  const found = await store.listRules(tenant, page);
  return { ...found, items: found.items.map(publicRule) };
}

export async function getAlertRule(store: AlertStore, tenant: string, id: string): Promise<AlertRule & { alerts: AlertStatus[] }> {
  const rule = await requireRule(store, tenant, id);
  return { ...publicRule(rule), alerts: await store.alertsOf(tenant, id) };
}

/**
 * Changes a rule, and/or moves its alerts along their life cycle: acknowledging takes open
 * alerts, resolving takes open and acknowledged ones (and starts their cool-down).
 */
export async function updateAlertRule(deps: RuleDeps, tenant: string, id: string, changes: AlertRuleChanges, by: string) {
  const before = await requireRule(deps.store, tenant, id);
  const now = (deps.now?.() ?? new Date()).toISOString();
  const { state, subject, targets, ...fields } = changes;
  let secrets: { target: number; secret: string }[] = [];
  let after = before;
  if (targets || Object.keys(fields).length > 0) {
    const replaced = targets ? await storeTargets(deps, tenant, targets) : undefined;
    secrets = replaced?.secrets ?? [];
    after = { ...before, ...fields, targets: replaced?.stored ?? before.targets, updatedAt: now };
    await deps.store.replaceRule(tenant, before, after);
    if (replaced) await removeSecrets(deps, tenant, before.targets);
  }
  if (state) {
    const from = state === 'acknowledged' ? (['open'] as const) : (['open', 'acknowledged'] as const);
    const moved = await deps.store.moveAlerts(tenant, id, subject, from, state, now);
    for (const alert of moved) await deps.store.addEvent(tenant, id, { type: state, alertId: alert.alertId, subject: alert.subject, at: now, summary: `${state} by ${by}`, by });
  }
  return { ...publicRule(after), alerts: await deps.store.alertsOf(tenant, id), secrets };
}

export async function deleteAlertRule(deps: RuleDeps, tenant: string, id: string): Promise<void> {
  const rule = await requireRule(deps.store, tenant, id);
  if (!(await deps.store.deleteRule(tenant, rule))) throw new NotFoundError(`No alert rule "${id}".`);
  await deps.store.purge(tenant, id);
  await removeSecrets(deps, tenant, rule.targets);
}

export async function listAlertEvents(store: AlertStore, tenant: string, id: string, page: { limit: number; cursor?: string }): Promise<Page<AlertEvent>> {
  await requireRule(store, tenant, id);
  return store.events(tenant, id, page);
}

/** What a signal did to one rule. */
export type Outcome = 'fired' | 'suppressed' | 'resolved' | 'unchanged' | 'watching';

/** What fires: the signal's subject, summary and facts, at a time. */
export type Firing = Pick<AlertSignal, 'subject' | 'occurrence' | 'summary' | 'facts' | 'correlationId'> & { at: string };

/**
 * Fires `rule` for the firing's subject, once: the claim is a conditional write, so concurrent
 * or repeated events of one (rule, subject) page once while its alert is open or acknowledged, and
 * not again within the cool-down after it resolved. A retry of the same occurrence re-takes its own
 * claim and sends the same messages again (same idempotency keys), so a crash between the claim
 * and the queue never loses the alert.
 */
export async function fireAlert(deps: FiringDeps, tenant: string, rule: StoredRule, firing: Firing): Promise<Outcome> {
  const alertId = `al-${hex(`${tenant}|${rule.id}|${firing.subject}|${firing.occurrence}`, 24)}`;
  const cooldownEdge = new Date(Date.parse(firing.at) - rule.cooldownSeconds * 1000).toISOString();
  if (!(await deps.store.claimAlert(tenant, { ruleId: rule.id, subject: firing.subject, alertId, occurrence: firing.occurrence, at: firing.at, cooldownEdge }))) {
    await deps.store.noteSuppressed(tenant, rule.id, firing.subject);
    return 'suppressed';
  }
  const messages = rule.targets.map((target, targetIndex): DeliveryMessage => ({
    tenant,
    ruleId: rule.id,
    ruleName: rule.name,
    alertId,
    at: firing.at,
    subject: firing.subject,
    summary: firing.summary,
    facts: firing.facts,
    ...(firing.correlationId ? { correlationId: firing.correlationId } : {}),
    targetIndex,
    target,
    idempotencyKey: `${alertId}.${targetIndex}`,
  }));
  const deliveries: DeliveryStatus[] = messages.map((m) => ({ target: m.targetIndex, kind: m.target.kind, status: 'pending', attempts: 0, idempotencyKey: m.idempotencyKey }));
  await deps.store.addEvent(tenant, rule.id, { type: 'fired', alertId, subject: firing.subject, at: firing.at, summary: firing.summary, ...(firing.correlationId ? { correlationId: firing.correlationId } : {}), deliveries });
  await deps.deliveries.enqueue(messages);
  await deps.events.publish(detailTypes.alertFired, { tenant, ruleId: rule.id, alertId, subject: firing.subject, summary: firing.summary, targets: messages.length, ...(firing.correlationId ? { correlationId: firing.correlationId } : {}) });
  return 'fired';
}

/** Resolves the open (or acknowledged) alert of (rule, subject): its subject recovered. */
export async function resolveAlert(store: AlertStore, tenant: string, rule: StoredRule, subject: string, at: string, summary: string): Promise<Outcome> {
  const moved = await store.moveAlerts(tenant, rule.id, subject, ['open', 'acknowledged'], 'resolved', at);
  for (const alert of moved) await store.addEvent(tenant, rule.id, { type: 'resolved', alertId: alert.alertId, subject, at, summary });
  return moved.length > 0 ? 'resolved' : 'unchanged';
}

/**
 * Evaluates one bus event against the tenant's rules: one lookup per index key of the event (rules
 * are filed by subject, never scanned), then the rule's own conditions, then fire or resolve.
 */
export async function evaluateSignal(deps: FiringDeps, signal: AlertSignal, at: string): Promise<Outcome[]> {
  const rules = (await Promise.all(signal.keys.map((key) => deps.store.rulesByKey(signal.tenant, key)))).flat();
  const outcomes: Outcome[] = [];
  for (const rule of rules) {
    if (!rule.enabled || !signal.matches(rule.condition)) continue;
    const minDurationMs = rule.condition.kind === 'anomalyOpened' ? (rule.condition.minDurationSeconds ?? 0) * 1000 : 0;
    if (signal.effect === 'resolve') {
      if (minDurationMs > 0) await deps.store.unwatch(signal.tenant, rule.id, signal.subject);
      outcomes.push(await resolveAlert(deps.store, signal.tenant, rule, signal.subject, at, signal.summary));
    } else if (signal.episode && signal.episode.lastedMs < minDurationMs) {
      // Too young to page: the schedule fires it once it has lasted the minimum, unless it closes first.
      const dueAt = new Date(Date.parse(signal.episode.start) + minDurationMs).toISOString();
      await deps.store.watch(signal.tenant, { ruleId: rule.id, subject: signal.subject, occurrence: signal.occurrence, dueAt, summary: signal.summary, facts: signal.facts, ...(signal.correlationId ? { correlationId: signal.correlationId } : {}) });
      outcomes.push('watching');
    } else {
      outcomes.push(await fireAlert(deps, signal.tenant, rule, { ...signal, at }));
    }
  }
  return outcomes;
}

/** Fires the watched episodes that have now lasted their rules' minimum (a schedule tick). */
export async function fireDueWatches(deps: FiringDeps, at: string): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for await (const { tenant, watch } of deps.store.dueWatches(at)) {
    const rule = await deps.store.getRule(tenant, watch.ruleId);
    if (rule?.enabled && rule.condition.kind === 'anomalyOpened') {
      outcomes.push(await fireAlert(deps, tenant, rule, { ...watch, summary: `${watch.summary}, lasting over ${rule.condition.minDurationSeconds ?? 0} s`, at }));
    }
    await deps.store.unwatch(tenant, watch.ruleId, watch.subject);
  }
  return outcomes;
}
