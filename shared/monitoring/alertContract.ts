import { z } from 'zod';
import { scopes } from '../gateway/scopes.js';
import { problemResponses } from '../http/problemSchema.js';
import { defineRoute } from '../http/route.js';
import { pageOf, pageQuery } from '../platform/page.js';
import { alertEvent, alertRule, alertRuleChanges, alertRuleWithAlerts, createdAlertRule, newAlertRule } from './alertRule.js';

const ruleId = z.string().regex(/^ar-[0-9a-f]{24}$/, 'An alert rule id, ar- and 24 hex digits');
const ruleSchema = alertRule.meta({ id: 'AlertRule' });
const ruleWithAlerts = alertRuleWithAlerts.meta({ id: 'AlertRuleWithAlerts' });
const tag = 'monitoring';
const ruleBodyBytes = 32_768;

export const createAlertRuleRoute = defineRoute({
  method: 'POST',
  path: '/api/v1/monitoring/alerts',
  operationId: 'createAlertRule',
  summary: 'Create an alert rule: a condition, its targets (webhook, email, SMS) and a cool-down; webhook secrets are shown once',
  tag,
  // Alert rules are tenant settings: the admin scope (scopes.ts).
  scope: scopes.admin,
  request: { body: newAlertRule.meta({ id: 'NewAlertRule' }), maxBodyBytes: ruleBodyBytes },
  responses: { 201: { description: 'The rule, with the generated webhook signing secrets (this once)', schema: createdAlertRule.meta({ id: 'CreatedAlertRule' }) }, ...problemResponses(400, 401, 403, 413, 415) },
});

export const listAlertRulesRoute = defineRoute({
  method: 'GET',
  path: '/api/v1/monitoring/alerts',
  operationId: 'listAlertRules',
  summary: "List the tenant's alert rules",
  tag,
  scope: scopes.read,
  request: { query: z.strictObject({ ...pageQuery }) },
  responses: { 200: { description: 'A page of rules', schema: pageOf(ruleSchema) }, ...problemResponses(400, 401, 403) },
});

export const getAlertRuleRoute = defineRoute({
  method: 'GET',
  path: '/api/v1/monitoring/alerts/{id}',
  operationId: 'getAlertRule',
  summary: 'Get an alert rule and its alerts (one per subject: open, acknowledged or resolved)',
  tag,
  scope: scopes.read,
  request: { path: z.object({ id: ruleId }) },
  responses: { 200: { description: 'The rule and its alerts', schema: ruleWithAlerts }, ...problemResponses(400, 401, 403, 404) },
});

export const updateAlertRuleRoute = defineRoute({
  method: 'PATCH',
  path: '/api/v1/monitoring/alerts/{id}',
  operationId: 'updateAlertRule',
  summary: "Change an alert rule, and/or acknowledge or resolve its alerts (state, optionally for one subject)",
  tag,
  scope: scopes.admin,
  request: { path: z.object({ id: ruleId }), body: alertRuleChanges.meta({ id: 'AlertRuleChanges' }), maxBodyBytes: ruleBodyBytes },
  responses: {
    200: { description: 'The rule and its alerts; new webhook targets bring their generated secrets, this once', schema: alertRuleWithAlerts.extend({ secrets: createdAlertRule.shape.secrets }) },
    ...problemResponses(400, 401, 403, 404, 413, 415),
  },
});

export const deleteAlertRuleRoute = defineRoute({
  method: 'DELETE',
  path: '/api/v1/monitoring/alerts/{id}',
  operationId: 'deleteAlertRule',
  summary: 'Delete an alert rule, its alerts, events and secrets',
  tag,
  scope: scopes.admin,
  request: { path: z.object({ id: ruleId }) },
  responses: { 204: { description: 'Deleted' }, ...problemResponses(400, 401, 403, 404) },
});

export const listAlertEventsRoute = defineRoute({
  method: 'GET',
  path: '/api/v1/monitoring/alerts/{id}/events',
  operationId: 'listAlertEvents',
  summary: "What a rule did, newest first: fired (with each notification's delivery status), acknowledged, resolved",
  tag,
  scope: scopes.read,
  request: { path: z.object({ id: ruleId }), query: z.strictObject({ ...pageQuery }) },
  responses: { 200: { description: 'A page of events', schema: pageOf(alertEvent.meta({ id: 'AlertEvent' })) }, ...problemResponses(400, 401, 403, 404) },
});
