import { DeleteCommand, QueryCommand, UpdateCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { AlertEvent, AlertStatus, DeliveryStatus } from '../monitoring/alertRule.js';
import { ruleKeyOf, scheduledKey } from '../monitoring/alertSignals.js';
import type { AlertStore, AlertWatch, StoredRule } from '../monitoring/alertStore.js';
import { boundName } from '../platform/config.js';
import { tables } from '../platform/resources.js';
import { dynamoDb } from './dynamoDbClient.js';
import { callAws, callAwsUnless } from './errors.js';
import { itemKey, tenantItems, tenantKey, withoutKeys, type Item } from './tenantItems.js';

/**
 * Alert rules, alerts and their events in the monitoring table, every key tenant-first:
 *
 * | item | pk | sk |
 * |---|---|---|
 * | rule | `T#<tenant>` | `AR#<ruleId>` |
 * | rule, filed by index key | `T#<tenant>#AK#<key>` | `<ruleId>` |
 * | alert of (rule, subject) | `T#<tenant>` | `AA#<ruleId>#<subject>` |
 * | event of a rule | `T#<tenant>#AE#<ruleId>` | `<at>#<alertId>#<type>` |
 * | time-based rule, for the schedule | `ALERTS#SCHEDULED` | `T#<tenant>#<ruleId>` |
 * | episode awaiting a rule's minimum duration | `ALERTS#WATCHES` | `T#<tenant>#<ruleId>#<subject>` |
 *
 * Evaluating an event is a Query on each of its index keys' partitions. The schedule's partitions
 * are the ones that span tenants: a tick must find every tenant's time-based rules and waiting
 * episodes, and their sort keys still start with the tenant.
 */
const scheduledPartition = 'ALERTS#SCHEDULED';
const ruleKey = (tenant: string, id: string) => itemKey(tenant, `AR#${id}`);
const indexKey = (tenant: string, rule: StoredRule) => ({ pk: `${tenantKey(tenant)}#AK#${ruleKeyOf(rule.condition)}`, sk: rule.id });
const scheduleKey = (tenant: string, id: string) => ({ pk: scheduledPartition, sk: `${tenantKey(tenant)}#${id}` });
const watchesPartition = 'ALERTS#WATCHES';
const watchKey = (tenant: string, ruleId: string, subject: string) => ({ pk: watchesPartition, sk: `${tenantKey(tenant)}#${ruleId}#${subject}` });
const alertKey = (tenant: string, ruleId: string, subject: string) => itemKey(tenant, `AA#${ruleId}#${subject}`);
const eventsPartition = (tenant: string, ruleId: string) => `${tenantKey(tenant)}#AE#${ruleId}`;
const eventKey = (tenant: string, ruleId: string, at: string, alertId: string, type: AlertEvent['type']) => ({ pk: eventsPartition(tenant, ruleId), sk: `${at}#${alertId}#${type}` });

const isConditionFailure = (error: unknown) => (error as { name?: string }).name === 'ConditionalCheckFailedException';
/** An update whose failed condition means there is nothing to do. */
const guarded = (send: () => Promise<unknown>) => callAwsUnless('DynamoDB', send, isConditionFailure, undefined);

const toAlert = (item: Item): AlertStatus => {
  const { occurrence: _occurrence, ruleId: _ruleId, updatedAt: _updatedAt, ...alert } = withoutKeys<AlertStatus & { occurrence: string; ruleId: string; updatedAt?: string }>(item);
  return alert;
};
const toEvent = (item: Item): AlertEvent => {
  const { deliveries, ...event } = withoutKeys<AlertEvent & { deliveries?: Record<string, DeliveryStatus> }>(item);
  return { ...event, ...(deliveries ? { deliveries: Object.values(deliveries).sort((a, b) => a.target - b.target) } : {}) };
};

export function dynamoAlertStore(tableName = boundName('TABLE', tables.monitoring.name)): AlertStore {
  const items = tenantItems(tableName);
  /** Every item of a query, page after page. */
  const queryAll = async (query: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> => {
    const all: Item[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await callAws('DynamoDB', () => dynamoDb().send(new QueryCommand({ TableName: tableName, ...query, ExclusiveStartKey: start })));
      all.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return all;
  };
  const byPrefix = (pk: string, prefix: string) =>
    queryAll({ KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)', ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix } });
  const remove = (key: { pk: string; sk: string }) => callAws('DynamoDB', () => dynamoDb().send(new DeleteCommand({ TableName: tableName, Key: key })));
  const file = async (tenant: string, rule: StoredRule) => {
    await items.put({ ...indexKey(tenant, rule), rule });
    if (ruleKeyOf(rule.condition) === scheduledKey) await items.put({ ...scheduleKey(tenant, rule.id), tenant, rule });
  };
  const unfile = async (tenant: string, rule: StoredRule) => {
    await remove(indexKey(tenant, rule));
    if (ruleKeyOf(rule.condition) === scheduledKey) await remove(scheduleKey(tenant, rule.id));
  };
  const ruleOf = (item: Item) => withoutKeys<StoredRule>(item);

  return {
    // The rule first, then its index entries: a crash between leaves a rule that shows and does not
    // fire yet (a PATCH files it again), never one that fires and cannot be seen or deleted.
    async createRule(tenant, rule) {
      await items.putNew({ ...ruleKey(tenant, rule.id), ...rule }, `Alert rule ${rule.id} exists.`);
      await file(tenant, rule);
    },
    async getRule(tenant, id) {
      const item = await items.get(ruleKey(tenant, id));
      return item ? ruleOf(item) : undefined;
    },
    listRules(tenant, page) {
      const query = { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)', ExpressionAttributeValues: { ':pk': tenantKey(tenant), ':prefix': 'AR#' } };
      return items.queryPage(tenant, query, page, [tenantKey(tenant)], ruleOf);
    },
    async replaceRule(tenant, before, after) {
      await items.put({ ...ruleKey(tenant, after.id), ...after });
      if (ruleKeyOf(before.condition) !== ruleKeyOf(after.condition)) await unfile(tenant, before);
      await file(tenant, after);
    },
    async deleteRule(tenant, rule) {
      await unfile(tenant, rule);
      return items.remove(ruleKey(tenant, rule.id));
    },
    async rulesByKey(tenant, key) {
      return (await queryAll({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `${tenantKey(tenant)}#AK#${key}` } })).map((item) => item.rule as StoredRule);
    },
    async *scheduledRules() {
      for (const item of await queryAll({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': scheduledPartition } })) {
        yield { tenant: item.tenant as string, rule: item.rule as StoredRule };
      }
    },
    claimAlert(tenant, claim) {
      return items.putIf(
        { ...alertKey(tenant, claim.ruleId, claim.subject), ruleId: claim.ruleId, alertId: claim.alertId, subject: claim.subject, state: 'open', openedAt: claim.at, lastFiredAt: claim.at, suppressed: 0, occurrence: claim.occurrence },
        {
          // Free, or this very occurrence again (a retry), or resolved before the cool-down began.
          expression: 'attribute_not_exists(pk) OR occurrence = :occurrence OR (#state = :resolved AND resolvedAt <= :edge)',
          names: { '#state': 'state' },
          values: { ':occurrence': claim.occurrence, ':resolved': 'resolved', ':edge': claim.cooldownEdge },
        },
      );
    },
    async noteSuppressed(tenant, ruleId, subject) {
      // A missing alert was purged with its rule meanwhile: nothing to count.
      await guarded(() =>
        dynamoDb().send(new UpdateCommand({ TableName: tableName, Key: alertKey(tenant, ruleId, subject), UpdateExpression: 'ADD suppressed :one', ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeValues: { ':one': 1 } })),
      );
    },
    async moveAlerts(tenant, ruleId, subject, from, to, at) {
      const candidates = (await byPrefix(tenantKey(tenant), `AA#${ruleId}#`)).map(toAlert).filter((a) => (subject === undefined || a.subject === subject) && from.includes(a.state));
      const moved: AlertStatus[] = [];
      for (const alert of candidates) {
        const stamp = to === 'acknowledged' ? { acknowledgedAt: at } : to === 'resolved' ? { resolvedAt: at } : {};
        // Guarded by the state read: a concurrent move (or a new claim) wins, and this one skips it.
        if (await items.update(alertKey(tenant, ruleId, alert.subject), { set: { state: to, ...stamp }, condition: { expression: '#state = :was AND alertId = :alertId', names: { '#state': 'state' }, values: { ':was': alert.state, ':alertId': alert.alertId } } })) {
          moved.push({ ...alert, state: to, ...stamp });
        }
      }
      return moved;
    },
    async alertsOf(tenant, ruleId) {
      return (await byPrefix(tenantKey(tenant), `AA#${ruleId}#`)).map(toAlert);
    },
    async addEvent(tenant, ruleId, event) {
      const { deliveries, ...rest } = event;
      const item = { ...eventKey(tenant, ruleId, event.at, event.alertId, event.type), ...rest, ...(deliveries ? { deliveries: Object.fromEntries(deliveries.map((d) => [String(d.target), d])) } : {}) };
      // A retried firing writes the same key: its deliveries' statuses, once recorded, stay.
      await items.putIf(item, { expression: 'attribute_not_exists(pk)' });
    },
    async setDelivery(tenant, ref, status) {
      await guarded(() =>
        dynamoDb().send(
          new UpdateCommand({
            TableName: tableName,
            Key: eventKey(tenant, ref.ruleId, ref.at, ref.alertId, 'fired'),
            UpdateExpression: 'SET #deliveries.#target = :status',
            // A late failure of a duplicate never overwrites a delivery that succeeded.
            ConditionExpression: 'attribute_exists(pk) AND (#deliveries.#target.#status <> :delivered OR :new = :delivered)',
            ExpressionAttributeNames: { '#deliveries': 'deliveries', '#target': String(status.target), '#status': 'status' },
            ExpressionAttributeValues: { ':status': status, ':delivered': 'delivered', ':new': status.status },
          }),
        ),
      );
    },
    events(tenant, ruleId, page) {
      const pk = eventsPartition(tenant, ruleId);
      return items.queryPage(tenant, { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ScanIndexForward: false }, page, [pk], toEvent);
    },
    async watch(tenant, watch) {
      await items.put({ ...watchKey(tenant, watch.ruleId, watch.subject), tenant, watch });
    },
    async unwatch(tenant, ruleId, subject) {
      await remove(watchKey(tenant, ruleId, subject));
    },
    async *dueWatches(at) {
      const due = await queryAll({ KeyConditionExpression: 'pk = :pk', FilterExpression: '#watch.dueAt <= :at', ExpressionAttributeNames: { '#watch': 'watch' }, ExpressionAttributeValues: { ':pk': watchesPartition, ':at': at } });
      for (const item of due) yield { tenant: item.tenant as string, watch: item.watch as AlertWatch };
    },
    async purge(tenant, ruleId) {
      const keys = [...(await byPrefix(tenantKey(tenant), `AA#${ruleId}#`)), ...(await queryAll({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': eventsPartition(tenant, ruleId) }, ProjectionExpression: 'pk, sk' }))];
      for (const item of keys) await remove({ pk: item.pk as string, sk: item.sk as string });
    },
  };
}
