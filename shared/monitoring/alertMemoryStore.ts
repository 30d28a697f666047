import type { Page } from '../platform/page.js';
import type { AlertEvent, AlertState, AlertStatus } from './alertRule.js';
import { ruleKeyOf, scheduledKey } from './alertSignals.js';
import type { AlertClaim, AlertStore, AlertWatch, StoredRule } from './alertStore.js';

interface StoredAlert extends AlertStatus {
  occurrence: string;
}

/**
 * The alert store in process memory, with the same index and claim semantics as the DynamoDB
 * adapter: rules filed by index key, a claim that holds while its alert is open. The in-process
 * evaluator (and its benchmark) run on it; one Node process is one thread, so its check-and-set is atomic.
 */
export function memoryAlertStore(): AlertStore {
  const rules = new Map<string, StoredRule>();
  const index = new Map<string, Map<string, StoredRule>>();
  const alerts = new Map<string, StoredAlert>();
  /** Each rule's events by type, alert and time (the DynamoDB adapter's key). */
  const events = new Map<string, Map<string, AlertEvent>>();
  const eventKey = (type: AlertEvent['type'], alertId: string, at: string) => `${type}\u0000${alertId}\u0000${at}`;
  const watches = new Map<string, { tenant: string; watch: AlertWatch }>();
  const ruleKey = (tenant: string, id: string) => `${tenant}\u0000${id}`;
  const indexKey = (tenant: string, key: string) => `${tenant}\u0000${key}`;
  const alertKey = (tenant: string, ruleId: string, subject: string) => `${tenant}\u0000${ruleId}\u0000${subject}`;
  const file = (tenant: string, rule: StoredRule) => {
    const key = indexKey(tenant, ruleKeyOf(rule.condition));
    const filed = index.get(key) ?? new Map<string, StoredRule>();
    filed.set(rule.id, rule);
    index.set(key, filed);
  };
  const unfile = (tenant: string, rule: StoredRule) => index.get(indexKey(tenant, ruleKeyOf(rule.condition)))?.delete(rule.id);
  const alertsOfRule = (tenant: string, ruleId: string) => [...alerts.entries()].filter(([k]) => k.startsWith(`${tenant}\u0000${ruleId}\u0000`)).map(([, a]) => a);
  const publicAlert = ({ occurrence: _occurrence, ...alert }: StoredAlert): AlertStatus => ({ ...alert });
  const page = <T>(items: T[], { limit, cursor }: { limit: number; cursor?: string }): Page<T> => {
    const start = cursor ? Number(cursor) : 0;
    const next = start + limit;
    return { items: items.slice(start, next), ...(next < items.length ? { nextCursor: String(next) } : {}) };
  };

  return {
    async createRule(tenant, rule) {
      rules.set(ruleKey(tenant, rule.id), rule);
      file(tenant, rule);
    },
    async getRule(tenant, id) {
      return rules.get(ruleKey(tenant, id));
    },
    async listRules(tenant, p) {
      return page([...rules.entries()].filter(([k]) => k.startsWith(`${tenant}\u0000`)).map(([, r]) => r), p);
    },
    async replaceRule(tenant, before, after) {
      unfile(tenant, before);
      rules.set(ruleKey(tenant, after.id), after);
      file(tenant, after);
    },
    async deleteRule(tenant, rule) {
      unfile(tenant, rule);
      return rules.delete(ruleKey(tenant, rule.id));
    },
    async rulesByKey(tenant, key) {
      return [...(index.get(indexKey(tenant, key))?.values() ?? [])];
    },
    async *scheduledRules() {
      for (const [key, filed] of index) {
        const [tenant, ruleKeyName] = key.split('\u0000');
        if (ruleKeyName === scheduledKey) for (const rule of filed.values()) yield { tenant, rule };
      }
    },
    async claimAlert(tenant, claim: AlertClaim) {
      const key = alertKey(tenant, claim.ruleId, claim.subject);
      const held = alerts.get(key);
      if (held && held.occurrence !== claim.occurrence && !(held.state === 'resolved' && (held.resolvedAt ?? '') <= claim.cooldownEdge)) return false;
      alerts.set(key, { alertId: claim.alertId, subject: claim.subject, state: 'open', openedAt: claim.at, lastFiredAt: claim.at, suppressed: 0, occurrence: claim.occurrence });
      return true;
    },
    async noteSuppressed(tenant, ruleId, subject) {
      const held = alerts.get(alertKey(tenant, ruleId, subject));
      if (held) held.suppressed += 1;
    },
    async moveAlerts(tenant, ruleId, subject, from: readonly AlertState[], to, at) {
      const moved: AlertStatus[] = [];
      for (const alert of alertsOfRule(tenant, ruleId)) {
        if ((subject !== undefined && alert.subject !== subject) || !from.includes(alert.state)) continue;
        alert.state = to;
        if (to === 'acknowledged') alert.acknowledgedAt = at;
        if (to === 'resolved') alert.resolvedAt = at;
        moved.push(publicAlert(alert));
      }
      return moved;
    },
    async alertsOf(tenant, ruleId) {
      return alertsOfRule(tenant, ruleId).map(publicAlert);
    },
    async addEvent(tenant, ruleId, event) {
      const kept = events.get(ruleKey(tenant, ruleId)) ?? new Map<string, AlertEvent>();
      const key = eventKey(event.type, event.alertId, event.at);
      if (!kept.has(key)) kept.set(key, structuredClone(event));
      events.set(ruleKey(tenant, ruleId), kept);
    },
    async setDelivery(tenant, ref, status) {
      const fired = events.get(ruleKey(tenant, ref.ruleId))?.get(eventKey('fired', ref.alertId, ref.at));
      // A late failure of a duplicate never overwrites a delivery that succeeded.
      if (fired?.deliveries && (fired.deliveries[status.target]?.status !== 'delivered' || status.status === 'delivered')) fired.deliveries[status.target] = status;
    },
    async events(tenant, ruleId, p) {
      return page([...(events.get(ruleKey(tenant, ruleId))?.values() ?? [])].sort((a, b) => b.at.localeCompare(a.at)), p);
    },
    async watch(tenant, watch) {
      watches.set(alertKey(tenant, watch.ruleId, watch.subject), { tenant, watch: structuredClone(watch) });
    },
    async unwatch(tenant, ruleId, subject) {
      watches.delete(alertKey(tenant, ruleId, subject));
    },
    async *dueWatches(at) {
      for (const entry of [...watches.values()]) if (entry.watch.dueAt <= at) yield entry;
    },
    async purge(tenant, ruleId) {
      for (const alert of alertsOfRule(tenant, ruleId)) alerts.delete(alertKey(tenant, ruleId, alert.subject));
      events.delete(ruleKey(tenant, ruleId));
    },
  };
}
