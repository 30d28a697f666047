import type { Page } from '../platform/page.js';
import type { AlertEvent, AlertRule, AlertState, AlertStatus, DeliveryStatus } from './alertRule.js';

/** A target as stored: a webhook names the parameter-store entry of its signing secret. */
export type StoredTarget = AlertRule['targets'][number] & { secretId?: string };
export type StoredRule = Omit<AlertRule, 'targets'> & { targets: StoredTarget[] };

/** The claim of an alert: one open alert per (rule, subject), taken by a conditional write. */
export interface AlertClaim {
  ruleId: string;
  subject: string;
  alertId: string;
  /** What fired; a retry of the same occurrence takes the claim again (idempotent), another one does not. */
  occurrence: string;
  at: string;
  /** A resolved alert may fire again only if it resolved at or before this time (the cool-down). */
  cooldownEdge: string;
}

/** Where a fired event is kept, so its deliveries can record their status on it. */
export interface FiredEventRef {
  ruleId: string;
  alertId: string;
  at: string;
}

/** An open episode a rule with a minimum duration waits on: the schedule fires it once it is due, its close drops it. */
export interface AlertWatch {
  ruleId: string;
  subject: string;
  occurrence: string;
  /** When the episode will have lasted the rule's minimum (ISO). */
  dueAt: string;
  summary: string;
  facts: Record<string, unknown>;
  correlationId?: string;
}

/** The port of the monitoring table's alert items (shared/aws has the DynamoDB adapter, alertMemoryStore the in-process one). */
export interface AlertStore {
  createRule(tenant: string, rule: StoredRule): Promise<void>;
  getRule(tenant: string, id: string): Promise<StoredRule | undefined>;
  listRules(tenant: string, page: { limit: number; cursor?: string }): Promise<Page<StoredRule>>;
  /** Writes the new version and moves the rule's index entry when its key changed. */
  replaceRule(tenant: string, before: StoredRule, after: StoredRule): Promise<void>;
  /** Removes the rule and its index entry; false when there was none. */
  deleteRule(tenant: string, rule: StoredRule): Promise<boolean>;
  /** The rules filed under an index key (see ruleKeyOf). */
  rulesByKey(tenant: string, key: string): Promise<StoredRule[]>;
  /** Every tenant's rules with a time-based condition, for the schedule. */
  scheduledRules(): AsyncIterable<{ tenant: string; rule: StoredRule }>;
  /** Takes the (rule, subject) alert; false when one is open or acknowledged, or resolved within the cool-down. */
  claimAlert(tenant: string, claim: AlertClaim): Promise<boolean>;
  /** Counts an event the open alert absorbed. */
  noteSuppressed(tenant: string, ruleId: string, subject: string): Promise<void>;
  /** Moves the rule's alerts (of one subject, or all) that are in `from` to `to`; answers those moved. */
  moveAlerts(tenant: string, ruleId: string, subject: string | undefined, from: readonly AlertState[], to: AlertState, at: string): Promise<AlertStatus[]>;
  alertsOf(tenant: string, ruleId: string): Promise<AlertStatus[]>;
  /** Records an event of a rule (idempotent: the same fired event written twice stays one). */
  addEvent(tenant: string, ruleId: string, event: AlertEvent): Promise<void>;
  /** Sets the status of one delivery of a fired event. */
  setDelivery(tenant: string, ref: FiredEventRef, status: DeliveryStatus): Promise<void>;
  /** The rule's events, newest first. */
  events(tenant: string, ruleId: string, page: { limit: number; cursor?: string }): Promise<Page<AlertEvent>>;
  /** Removes the rule's alerts and events (the rule is gone). */
  purge(tenant: string, ruleId: string): Promise<void>;
  /** Waits on an episode for a rule with a minimum duration (one watch per rule and subject). */
  watch(tenant: string, watch: AlertWatch): Promise<void>;
  unwatch(tenant: string, ruleId: string, subject: string): Promise<void>;
  /** Every tenant's watches due at `at` (ISO). */
  dueWatches(at: string): AsyncIterable<{ tenant: string; watch: AlertWatch }>;
}

/** Webhook signing secrets (SSM SecureString on AWS). */
export interface AlertSecrets {
  put(tenant: string, id: string, secret: string): Promise<void>;
  get(tenant: string, id: string): Promise<string>;
  remove(tenant: string, id: string): Promise<void>;
}
