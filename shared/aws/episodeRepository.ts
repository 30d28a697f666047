import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { boundName } from '../platform/config.js';
import { tables } from '../platform/resources.js';
import { episode as episodeSchema, type Episode, type EpisodeStore } from '../sensors/episode.js';
import type { EpisodeEventKind } from '../sensors/episodes.js';
import { dynamoDb } from './dynamoDbClient.js';
import { callAws, callAwsUnless } from './errors.js';
import { itemKey, tenantItems, tenantKey, unlessConditionFails, type Item, type PageQuery } from './tenantItems.js';

const t = tables.anomalies;
const episodeKey = (tenant: string, id: string) => itemKey(tenant, `EPISODE#${id}`);
const isConditionFailure = (error: unknown) => (error as { name?: string }).name === 'ConditionalCheckFailedException';
/** The record without the storage fields (keys, revision, notified, updatedAt): zod strips them. */
// correlationIds is a string set (ADD keeps each id once, however often a snapshot is applied again).
const toEpisode = (item: Item): Episode =>
  episodeSchema.parse(item.correlationIds instanceof Set ? { ...item, correlationIds: [...(item.correlationIds as Set<string>)].sort() } : item);
const notifiedOf = (item: Item | undefined): EpisodeEventKind[] => Object.keys((item?.notified as Record<string, string> | undefined) ?? {}) as EpisodeEventKind[];

/**
 * Episodes live in their tenant's partition (they are rare next to readings); gsi1 lists them by
 * tenant and start time, newest first.
 */
export function dynamoEpisodeStore(tableName = boundName('TABLE', t.name)): EpisodeStore {
  const items = tenantItems(tableName);
  return {
    async save(tenant, { episode, revision, correlationId }) {
      const fields: Record<string, unknown> = { ...episode, revision, gsi1pk: tenantKey(tenant), gsi1sk: `${episode.start}#${episode.id}` };
      const names: Record<string, string> = { '#revision': 'revision', '#notified': 'notified', '#claims': 'claims' };
      const values: Record<string, unknown> = { ':revision': revision, ':none': {} };
      const sets = Object.entries(fields).map(([name, value]) => {
        names[`#${name}`] = name;
        values[`:${name}`] = value;
        return `#${name} = :${name}`;
      });
      if (correlationId) {
        names['#correlationIds'] = 'correlationIds';
        values[':correlationIds'] = new Set([correlationId]);
      }
      // An UpdateItem, not a Put: the verdict and the notes of sent events are not the scorer's to overwrite.
      const written = await callAwsUnless(
        'DynamoDB',
        async () =>
          (
            await dynamoDb().send(
              new UpdateCommand({
                TableName: tableName,
                Key: episodeKey(tenant, episode.id),
                UpdateExpression: `SET ${sets.join(', ')}, #notified = if_not_exists(#notified, :none), #claims = if_not_exists(#claims, :none)${correlationId ? ' ADD #correlationIds :correlationIds' : ''}`,
                ConditionExpression: 'attribute_not_exists(pk) OR #revision <= :revision',
                ExpressionAttributeNames: names,
                ExpressionAttributeValues: values,
                ReturnValues: 'ALL_NEW',
              }),
            )
          ).Attributes,
        isConditionFailure,
        null,
      );
      // A newer snapshot is stored already: what it was notified of still decides what to send.
      return { notified: notifiedOf(written ?? (await items.get(episodeKey(tenant, episode.id)))) };
    },

    async claimEvent(tenant, id, kind, claim, now) {
      const claimed = await unlessConditionFails(() =>
        dynamoDb().send(
          new UpdateCommand({
            TableName: tableName,
            Key: episodeKey(tenant, id),
            UpdateExpression: 'SET #claims.#kind = :claim',
            // Not sent yet, and nobody else's claim live: a lapsed claim is a publisher that died.
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#notified.#kind) AND (attribute_not_exists(#claims.#kind) OR #claims.#kind.#until < :now)',
            ExpressionAttributeNames: { '#claims': 'claims', '#notified': 'notified', '#kind': kind, '#until': 'until' },
            ExpressionAttributeValues: { ':claim': claim, ':now': now },
          }),
        ),
      );
      if (claimed) return 'claimed';
      const item = await items.get(episodeKey(tenant, id));
      return notifiedOf(item).includes(kind) ? 'sent' : 'held';
    },

    async releaseEvent(tenant, id, kind, by) {
      // Only the holder's own claim: a lapsed one may have been taken by another publisher since.
      await unlessConditionFails(() =>
        dynamoDb().send(
          new UpdateCommand({
            TableName: tableName,
            Key: episodeKey(tenant, id),
            UpdateExpression: 'REMOVE #claims.#kind',
            ConditionExpression: '#claims.#kind.#by = :by',
            ExpressionAttributeNames: { '#claims': 'claims', '#kind': kind, '#by': 'by' },
            ExpressionAttributeValues: { ':by': by },
          }),
        ),
      );
    },

    async markNotified(tenant, id, kind) {
      await callAws('DynamoDB', () =>
        dynamoDb().send(
          new UpdateCommand({
            TableName: tableName,
            Key: episodeKey(tenant, id),
            UpdateExpression: 'SET #notified.#kind = :now',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: { '#notified': 'notified', '#kind': kind },
            ExpressionAttributeValues: { ':now': new Date().toISOString() },
          }),
        ),
      );
    },

    async get(tenant, id) {
      const item = await items.get(episodeKey(tenant, id));
      return item ? toEpisode(item) : undefined;
    },

    async list(tenant, filter, page) {
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {
        ':t': tenantKey(tenant),
        ':from': filter.from ? new Date(filter.from).toISOString() : '0',
        // '~' sorts after '#<id>', so an episode that started exactly at `to` is in.
        ':to': `${filter.to ? new Date(filter.to).toISOString() : '9'}#~`,
      };
      const conditions: string[] = [];
      for (const [field, value] of [
        ['sensorId', filter.sensorId],
        ['group', filter.group],
        ['status', filter.status],
      ] as const) {
        if (value === undefined) continue;
        names[`#${field}`] = field;
        values[`:${field}`] = value;
        conditions.push(`#${field} = :${field}`);
      }
      const query: PageQuery = {
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :t AND gsi1sk BETWEEN :from AND :to',
        ScanIndexForward: false,
        ExpressionAttributeValues: values,
        ...(conditions.length > 0 ? { FilterExpression: conditions.join(' AND '), ExpressionAttributeNames: names } : {}),
      };
      return items.queryPage(tenant, query, page, ['pk', 'gsi1pk'], toEpisode);
    },

    async recordVerdict(tenant, id, verdict) {
      const updated = await items.update(episodeKey(tenant, id), { set: { verdict } });
      return updated ? this.get(tenant, id) : undefined;
    },
  };
}
