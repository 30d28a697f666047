import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { boundName } from '../platform/config.js';
import { tables } from '../platform/resources.js';
import type { Dataset } from '../data/registry/dataset.js';
import type { DatasetRepository } from '../data/registry/datasetRepository.js';
import { dynamoDb } from './clients.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { translateAwsError } from './errors.js';

const tenantKey = (tenant: string) => `T#${tenant}`;
const datasetKey = (id: string) => `DATASET#${id}`;

const toDataset = (item: Record<string, unknown>): Dataset => {
  const { pk: _pk, sk: _sk, ...dataset } = item;
  return dataset as Dataset;
};

/** Dataset records, one item each in the tenant's partition; fields are top-level so steps update them in place. */
export function dynamoDatasetRepository(tableName = boundName('TABLE', tables.datasets.name)): DatasetRepository {
  const key = (tenant: string, id: string) => ({ pk: tenantKey(tenant), sk: datasetKey(id) });
  return {
    async create(tenant, dataset) {
      try {
        await dynamoDb().send(new PutCommand({ TableName: tableName, Item: { ...key(tenant, dataset.id), ...dataset }, ConditionExpression: 'attribute_not_exists(pk)' }));
      } catch (error) {
        throw translateAwsError('DynamoDB', error, `A dataset with id "${dataset.id}" already exists.`);
      }
    },

    async get(tenant, id) {
      try {
        const { Item } = await dynamoDb().send(new GetCommand({ TableName: tableName, Key: key(tenant, id) }));
        return Item ? toDataset(Item) : undefined;
      } catch (error) {
        throw translateAwsError('DynamoDB', error);
      }
    },

    async list(tenant, page) {
      try {
        const result = await dynamoDb().send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'pk = :p AND begins_with(sk, :s)',
            ExpressionAttributeValues: { ':p': tenantKey(tenant), ':s': 'DATASET#' },
            Limit: page.limit,
            ScanIndexForward: false,
            ExclusiveStartKey: decodeCursor(page.cursor, tenantKey(tenant), ['pk']),
          }),
        );
        return { items: (result.Items ?? []).map(toDataset), nextCursor: encodeCursor(result.LastEvaluatedKey) };
      } catch (error) {
        throw translateAwsError('DynamoDB', error);
      }
    },

    async update(tenant, id, changes, guard = {}) {
      const names: Record<string, string> = { '#updatedAt': 'updatedAt' };
      const values: Record<string, unknown> = { ':now': new Date().toISOString() };
      const sets = ['#updatedAt = :now'];
      for (const [field, value] of Object.entries(changes)) {
        if (value === undefined) continue;
        names[`#${field}`] = field;
        values[`:${field}`] = value;
        sets.push(`#${field} = :${field}`);
      }
      const conditions = ['attribute_exists(pk)'];
      if (guard.runId) {
        names['#run'] = 'run';
        names['#runId'] = 'id';
        values[':runId'] = guard.runId;
        conditions.push('#run.#runId = :runId');
      }
      if (guard.allowedFrom) {
        names['#status'] = 'status';
        guard.allowedFrom.forEach((s, i) => (values[`:from${i}`] = s));
        conditions.push(`#status IN (${guard.allowedFrom.map((_, i) => `:from${i}`).join(', ')})`);
      }
      try {
        await dynamoDb().send(
          new UpdateCommand({
            TableName: tableName,
            Key: key(tenant, id),
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression: conditions.join(' AND '),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        );
        return true;
      } catch (error) {
        if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
        throw translateAwsError('DynamoDB', error);
      }
    },

    async clear(tenant, id, fields, guard = {}) {
      if (fields.length === 0) return;
      const names: Record<string, string> = Object.fromEntries(fields.map((f) => [`#${f}`, f]));
      const values: Record<string, unknown> = {};
      let condition = 'attribute_exists(pk)';
      if (guard.runId) {
        Object.assign(names, { '#run': 'run', '#runId': 'id' });
        values[':runId'] = guard.runId;
        condition += ' AND #run.#runId = :runId';
      }
      try {
        await dynamoDb().send(
          new UpdateCommand({
            TableName: tableName,
            Key: key(tenant, id),
            UpdateExpression: `REMOVE ${fields.map((f) => `#${f}`).join(', ')}`,
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
          }),
        );
      } catch (error) {
        if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return;
        throw translateAwsError('DynamoDB', error);
      }
    },
  };
}
