import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { streamingStateSchema } from '../ml/streaming/state.js';
import { boundName } from '../platform/config.js';
import { tables } from '../platform/resources.js';
import { trackerState } from '../sensors/episodes.js';
import { modelTracker, type GroupScorerState } from '../sensors/groupScoring.js';
import { pendingEffects, type CommittedState, type ScorerState, type StateStore } from '../sensors/scoring.js';
import { dynamoDb } from './dynamoDbClient.js';
import { callAws } from './errors.js';
import { tenantKey, unlessConditionFails } from './tenantItems.js';

type Key = { pk: string; sk: string };

/**
 * A scorer's state as one item: version, last timestamp, the scorer's own part as one JSON
 * attribute (`body` says which fields), the pending effects another, so clearing them rewrites nothing else.
 */
function conditionalStateStore<S extends CommittedState, B extends z.ZodType<Omit<S, keyof CommittedState>>>(tableName: string, keyOf: (tenant: string, id: string) => Key, body: B): StateStore<S> {
  return {
    async load(tenant, id) {
      // Strongly consistent: the version read is the one the conditional write is checked against.
      const item = await callAws('DynamoDB', async () => (await dynamoDb().send(new GetCommand({ TableName: tableName, Key: keyOf(tenant, id), ConsistentRead: true }))).Item);
      if (!item) return undefined;
      return {
        version: item.version as number,
        lastTimestamp: item.lastTimestamp as number,
        ...body.parse(JSON.parse(item.state as string)),
        pending: typeof item.pending === 'string' ? pendingEffects.parse(JSON.parse(item.pending)) : null,
      } as S;
    },

    save: (tenant, id, state, expectedVersion) => {
      const { version, lastTimestamp, pending, ...own } = state;
      return unlessConditionFails(() =>
        dynamoDb().send(
          new PutCommand({
            TableName: tableName,
            Item: { ...keyOf(tenant, id), version, lastTimestamp, state: JSON.stringify(own), ...(pending ? { pending: JSON.stringify(pending) } : {}) },
            ...(expectedVersion === 0
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : { ConditionExpression: '#version = :expected', ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':expected': expectedVersion } }),
          }),
        ),
      );
    },

    async clearPending(tenant, id, version) {
      await unlessConditionFails(() =>
        dynamoDb().send(
          new UpdateCommand({
            TableName: tableName,
            Key: keyOf(tenant, id),
            UpdateExpression: 'REMOVE pending',
            ConditionExpression: '#version = :version AND attribute_exists(pending)',
            ExpressionAttributeNames: { '#version': 'version' },
            ExpressionAttributeValues: { ':version': version },
          }),
        ),
      );
    },
  };
}

/**
 * One item per sensor, in a partition of its own (`T#<tenant>#SENSOR#<id>`), so a tenant's many
 * sensors spread their state writes over partitions.
 */
export const dynamoScorerStateStore = (tableName = boundName('TABLE', tables.anomalies.name)): StateStore<ScorerState> =>
  conditionalStateStore(tableName, (tenant, sensorId) => ({ pk: `${tenantKey(tenant)}#SENSOR#${sensorId}`, sk: 'SCORER' }), z.object({ detector: streamingStateSchema, tracker: trackerState }));

/** One item per sensor group (`T#<tenant>#GROUP#<group>`): the group model scorer's trackers. */
export const dynamoGroupScorerStateStore = (tableName = boundName('TABLE', tables.anomalies.name)): StateStore<GroupScorerState> =>
  conditionalStateStore(tableName, (tenant, group) => ({ pk: `${tenantKey(tenant)}#GROUP#${group}`, sk: 'SCORER' }), z.object({ trackers: z.record(z.string(), modelTracker) }));
