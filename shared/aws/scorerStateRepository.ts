import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { streamingStateSchema } from '../ml/streaming/state.js';
import { boundName } from '../platform/config.js';
import { tables } from '../platform/resources.js';
import { trackerState } from '../sensors/episodes.js';
import { pendingEffects, type ScorerStateStore } from '../sensors/scoring.js';
import { dynamoDb } from './dynamoDbClient.js';
import { callAws, callAwsUnless } from './errors.js';
import { tenantKey } from './tenantItems.js';

/**
 * One item per sensor, in a partition of its own (`T#<tenant>#SENSOR#<id>`), so a tenant's many
 * sensors spread their state writes over partitions. The detector and the tracker are one JSON
 * attribute, the pending effects another, so clearing them rewrites nothing else.
 */
const stateKey = (tenant: string, sensorId: string) => ({ pk: `${tenantKey(tenant)}#SENSOR#${sensorId}`, sk: 'SCORER' });
const isConditionFailure = (error: unknown) => (error as { name?: string }).name === 'ConditionalCheckFailedException';
const parseState = (text: string) => {
  const parsed = JSON.parse(text) as { detector: unknown; tracker: unknown };
  return { detector: streamingStateSchema.parse(parsed.detector), tracker: trackerState.parse(parsed.tracker) };
};

export function dynamoScorerStateStore(tableName = boundName('TABLE', tables.anomalies.name)): ScorerStateStore {
  return {
    async load(tenant, sensorId) {
      // Strongly consistent: the version read is the one the conditional write is checked against.
      const item = await callAws('DynamoDB', async () => (await dynamoDb().send(new GetCommand({ TableName: tableName, Key: stateKey(tenant, sensorId), ConsistentRead: true }))).Item);
      if (!item) return undefined;
      return {
        version: item.version as number,
        lastTimestamp: item.lastTimestamp as number,
        ...parseState(item.state as string),
        pending: typeof item.pending === 'string' ? pendingEffects.parse(JSON.parse(item.pending)) : null,
      };
    },

    save: (tenant, sensorId, state, expectedVersion) =>
      callAwsUnless(
        'DynamoDB',
        async () => {
          await dynamoDb().send(
            new PutCommand({
              TableName: tableName,
              Item: {
                ...stateKey(tenant, sensorId),
                version: state.version,
                lastTimestamp: state.lastTimestamp,
                state: JSON.stringify({ detector: state.detector, tracker: state.tracker }),
                ...(state.pending ? { pending: JSON.stringify(state.pending) } : {}),
              },
              ...(expectedVersion === 0
                ? { ConditionExpression: 'attribute_not_exists(pk)' }
                : { ConditionExpression: '#version = :expected', ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':expected': expectedVersion } }),
            }),
          );
          return true;
        },
        isConditionFailure,
        false,
      ),

    async clearPending(tenant, sensorId, version) {
      await callAwsUnless(
        'DynamoDB',
        () =>
          dynamoDb().send(
            new UpdateCommand({
              TableName: tableName,
              Key: stateKey(tenant, sensorId),
              UpdateExpression: 'REMOVE pending',
              ConditionExpression: '#version = :version AND attribute_exists(pending)',
              ExpressionAttributeNames: { '#version': 'version' },
              ExpressionAttributeValues: { ':version': version },
            }),
          ),
        isConditionFailure,
        undefined,
      );
    },
  };
}
