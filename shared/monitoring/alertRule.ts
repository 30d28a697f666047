import { z } from 'zod';
import { resourceId } from '../platform/ids.js';
import { severities } from '../sensors/episodes.js';

/**
 * Alert rules: what a rule watches (its condition), who hears (its targets), and how often it may
 * page (its cool-down). The schemas are the API's contract and the stored shape.
 */

const scopeOf = z
  .strictObject({
    sensorId: resourceId.optional(),
    group: resourceId.optional(),
    model: z.string().min(1).max(128).optional().describe('The name of the model that scored the readings (e.g. "streaming" or a deployed model)'),
  })
  .refine((s) => [s.sensorId, s.group, s.model].filter((v) => v !== undefined).length === 1, { message: 'Give exactly one of sensorId, group and model' });

const anomalyOpened = z.strictObject({
  kind: z.literal('anomalyOpened'),
  on: scopeOf.describe('Which episodes: of one sensor, of a sensor group, or scored by one model'),
  minSeverity: z.enum(severities).optional().describe('Fire for episodes at least this severe'),
  minPeakScore: z.number().min(0).max(1).optional().describe('Fire for episodes whose peak score reaches this'),
  minDurationSeconds: z.number().int().min(1).max(7 * 86_400).optional().describe('Fire only once the episode has lasted this long (checked by the schedule); an episode that closes sooner never fires'),
});

const readingLimit = z
  .strictObject({
    kind: z.literal('readingLimit'),
    sensorId: resourceId,
    above: z.number().optional().describe('Fire when every reading of the window is above this'),
    below: z.number().optional().describe('Fire when every reading of the window is below this'),
    forMinutes: z.number().int().min(1).max(1440).describe('The window: the last N minutes of readings'),
  })
  .refine((c) => (c.above === undefined) !== (c.below === undefined), { message: 'Give exactly one of above and below' });

const sensorSilent = z.strictObject({
  kind: z.literal('sensorSilent'),
  sensorId: resourceId,
  expectedIntervalSeconds: z.number().int().min(1).max(86_400).describe("The sensor's expected interval between readings"),
  factor: z.number().min(1).max(1000).default(3).describe('Fire when no reading came for expectedIntervalSeconds times this'),
});

const predictedCrossing = z
  .strictObject({
    kind: z.literal('predictedCrossing'),
    sensorId: resourceId,
    above: z.number().optional().describe('The limit the forecast must not rise above'),
    below: z.number().optional().describe('The limit the forecast must not fall below'),
    horizonHours: z.number().min(0.1).max(24 * 90).describe('How far ahead to look'),
    lookbackHours: z.number().min(0.1).max(24 * 90).default(24 * 7).describe('The history the forecast is fitted on'),
    intervalSeconds: z.number().int().min(1).max(86_400).default(3600).describe('Readings are averaged per interval before the forecast'),
  })
  .refine((c) => (c.above === undefined) !== (c.below === undefined), { message: 'Give exactly one of above and below' });

const driftDetected = z.strictObject({
  kind: z.literal('driftDetected'),
  group: resourceId
    .optional()
    .describe("The sensor group whose deployed model (champion or challenger) drifted from its training data, as the scheduled drift check finds it; any group when absent. Fires once per model version and drift episode, resolves when the drift clears"),
});

const pipelineFailed = z.strictObject({
  kind: z.literal('pipelineFailed'),
  pipeline: z.enum(['dataset', 'training']).optional().describe('Which pipeline; any when absent'),
});

export const alertCondition = z.discriminatedUnion('kind', [anomalyOpened, readingLimit, sensorSilent, predictedCrossing, driftDetected, pipelineFailed]);
export type AlertCondition = z.infer<typeof alertCondition>;
export type ConditionKind = AlertCondition['kind'];
/** Conditions the scheduled evaluator checks (time-based); the others are evaluated on bus events. */
export const scheduledKinds = ['readingLimit', 'sensorSilent', 'predictedCrossing'] as const satisfies readonly ConditionKind[];
export type ScheduledCondition = Extract<AlertCondition, { kind: (typeof scheduledKinds)[number] }>;
export const isScheduled = (c: AlertCondition): c is ScheduledCondition => (scheduledKinds as readonly string[]).includes(c.kind);

const httpsOrLocalUrl = z.url({ protocol: /^https?$/ }).max(2048);

const webhookInput = z.strictObject({
  kind: z.literal('webhook'),
  url: httpsOrLocalUrl,
  format: z.enum(['json', 'slack']).default('json').describe('slack: a Slack-compatible body (text and blocks)'),
  secret: z.string().min(16).max(256).optional().describe('The HMAC-SHA256 signing secret; generated when absent and shown once, in the creation answer'),
});
const emailTarget = z.strictObject({ kind: z.literal('email'), address: z.email().max(254) });
const smsTarget = z.strictObject({ kind: z.literal('sms'), phoneNumber: z.string().regex(/^\+[1-9]\d{6,14}$/, 'An E.164 number, e.g. +4915112345678') });

export const targetInput = z.discriminatedUnion('kind', [webhookInput, emailTarget, smsTarget]);
export type TargetInput = z.infer<typeof targetInput>;

/** A webhook target as stored and returned: the secret lives in the parameter store, the API shows a hint of it. */
const webhookTarget = webhookInput.omit({ secret: true }).extend({ secretHint: z.string().describe('The last 4 characters of the signing secret') });
export const alertTarget = z.discriminatedUnion('kind', [webhookTarget, emailTarget, smsTarget]);
export type AlertTarget = z.infer<typeof alertTarget>;

const ruleFields = {
  name: z.string().trim().min(1).max(200),
  condition: alertCondition,
  targets: z.array(targetInput).min(1).max(10),
  cooldownSeconds: z.number().int().min(0).max(7 * 86_400).default(900).describe('After an alert resolves, the same rule and subject stay quiet this long'),
  enabled: z.boolean().default(true),
};
export const newAlertRule = z.strictObject(ruleFields);
export type NewAlertRule = z.infer<typeof newAlertRule>;

export const alertStates = ['open', 'acknowledged', 'resolved'] as const;
export type AlertState = (typeof alertStates)[number];

/** PATCH: any rule field, and/or a step of the life cycle of the rule's alerts (all, or one subject's). */
export const alertRuleChanges = z
  .strictObject({
    name: ruleFields.name.optional(),
    condition: alertCondition.optional(),
    targets: ruleFields.targets.optional(),
    cooldownSeconds: z.number().int().min(0).max(7 * 86_400).optional(),
    enabled: z.boolean().optional(),
    state: z.enum(['acknowledged', 'resolved']).optional().describe("Move the rule's open alerts on: open -> acknowledged -> resolved"),
    subject: z.string().min(1).max(256).optional().describe('With state: only the alert of this subject (e.g. a sensor id)'),
  })
  .refine((c) => Object.keys(c).length > 0, { message: 'Give at least one change' })
  .refine((c) => c.subject === undefined || c.state !== undefined, { message: 'subject goes with state', path: ['subject'] });
export type AlertRuleChanges = z.infer<typeof alertRuleChanges>;

/** One alert of a rule: the (rule, subject) pair that fired, while it is open or acknowledged, and after. */
export const alertStatus = z.object({
  alertId: z.string(),
  subject: z.string(),
  state: z.enum(alertStates),
  openedAt: z.iso.datetime(),
  lastFiredAt: z.iso.datetime(),
  /** Events for this subject that the open alert absorbed (de-duplication). */
  suppressed: z.number().int(),
  acknowledgedAt: z.iso.datetime().optional(),
  resolvedAt: z.iso.datetime().optional(),
});
export type AlertStatus = z.infer<typeof alertStatus>;

export const alertRule = z.object({
  id: z.string(),
  name: z.string(),
  condition: alertCondition,
  targets: z.array(alertTarget),
  cooldownSeconds: z.number().int(),
  enabled: z.boolean(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type AlertRule = z.infer<typeof alertRule>;

export const alertRuleWithAlerts = alertRule.extend({ alerts: z.array(alertStatus).describe("The rule's alerts, one per subject") });

/** The creation answer: the rule, and each webhook's signing secret this once. */
export const createdAlertRule = alertRule.extend({
  secrets: z.array(z.object({ target: z.number().int(), secret: z.string() })).describe('Signing secrets of the webhook targets by index: shown only in this answer'),
});

export const deliveryStatuses = ['pending', 'delivered', 'retrying', 'failed'] as const;
export const deliveryStatus = z.object({
  target: z.number().int(),
  kind: z.enum(['webhook', 'email', 'sms']),
  status: z.enum(deliveryStatuses),
  attempts: z.number().int(),
  idempotencyKey: z.string(),
  lastError: z.string().optional(),
  at: z.iso.datetime().optional(),
});
export type DeliveryStatus = z.infer<typeof deliveryStatus>;

/** What happened to a rule: fired (with each notification's delivery), acknowledged, resolved. */
export const alertEvent = z.object({
  type: z.enum(['fired', 'acknowledged', 'resolved']),
  alertId: z.string(),
  subject: z.string(),
  at: z.iso.datetime(),
  summary: z.string(),
  by: z.string().optional(),
  correlationId: z.string().optional(),
  deliveries: z.array(deliveryStatus).optional(),
});
export type AlertEvent = z.infer<typeof alertEvent>;
