import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { boundName } from '../platform/config.js';
import { tables } from '../platform/resources.js';
import type { VerdictLabel, VerdictLabelStore } from '../ml/registry/verdictLabels.js';
import { dynamoDb } from './dynamoDbClient.js';
import { callAws } from './errors.js';
import { itemKey, tenantKey, unlessConditionFails, withoutKeys } from './tenantItems.js';

const prefix = 'VERDICT#';

/** Verdict labels in the models table, in their tenant's partition beside its models (`VERDICT#<episodeId>`). */
export function dynamoVerdictLabelStore(tableName = boundName('TABLE', tables.models.name)): VerdictLabelStore {
  return {
    async put(tenant, label) {
      // Events can arrive out of order: the later verdict stays.
      await unlessConditionFails(() =>
        dynamoDb().send(
          new PutCommand({
            TableName: tableName,
            Item: { ...itemKey(tenant, `${prefix}${label.episodeId}`), ...label },
            ConditionExpression: 'attribute_not_exists(pk) OR #at <= :at',
            ExpressionAttributeNames: { '#at': 'at' },
            ExpressionAttributeValues: { ':at': label.at },
          }),
        ),
      );
    },

    async list(tenant) {
      const labels: VerdictLabel[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await callAws('DynamoDB', () =>
          dynamoDb().send(
            new QueryCommand({
              TableName: tableName,
              KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
              ExpressionAttributeValues: { ':pk': tenantKey(tenant), ':prefix': prefix },
              ExclusiveStartKey: start,
            }),
          ),
        );
        for (const item of page.Items ?? []) labels.push(withoutKeys<VerdictLabel>(item));
        start = page.LastEvaluatedKey;
      } while (start);
      return labels;
    },
  };
}
