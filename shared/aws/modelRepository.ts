import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ModelRecord } from '../ml/registry/model.js';
import type { ModelRepository } from '../ml/registry/modelRepository.js';
import { boundName } from '../platform/config.js';
import { tables } from '../platform/resources.js';
import { dynamoDb } from './clients.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { translateAwsError } from './errors.js';

const tenantKey = (tenant: string) => `T#${tenant}`;
const modelKey = (id: string) => `MODEL#${id}`;
/** Versions sort by number: zero-padded, and ids hold no '#', so one model's versions share a prefix no other model's do. */
const versionPrefix = (id: string) => `VERSION#${id}#`;
const versionKey = (id: string, version: number) => `${versionPrefix(id)}${String(version).padStart(10, '0')}`;
/** gsi1 lists a tenant's models by creation time. */
const listKey = (tenant: string) => `${tenantKey(tenant)}#MODELS`;

const toModel = (item: Record<string, unknown>): ModelRecord => {
  const { pk: _pk, sk: _sk, gsi1pk: _g, gsi1sk: _s, ...model } = item;
  return model as ModelRecord;
};

const isConditionFailure = (error: unknown) => (error as { name?: string }).name === 'ConditionalCheckFailedException';

/**
 * Model records, one item each in the tenant's partition; fields are top-level so training steps
 * update them in place. Registered versions are items of their own beside it (no gsi1 keys, so the
 * model listing shows each model once, at its current version).
 */
export function dynamoModelRepository(tableName = boundName('TABLE', tables.models.name)): ModelRepository {
  const key = (tenant: string, id: string) => ({ pk: tenantKey(tenant), sk: modelKey(id) });
  return {
    async create(tenant, model) {
      try {
        await dynamoDb().send(
          new PutCommand({
            TableName: tableName,
            Item: { ...key(tenant, model.id), gsi1pk: listKey(tenant), gsi1sk: `${model.createdAt}#${model.id}`, ...model },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (error) {
        throw translateAwsError('DynamoDB', error, `A model with id "${model.id}" already exists.`);
      }
    },

    async get(tenant, id) {
      try {
        const { Item } = await dynamoDb().send(new GetCommand({ TableName: tableName, Key: key(tenant, id) }));
        return Item ? toModel(Item) : undefined;
      } catch (error) {
        throw translateAwsError('DynamoDB', error);
      }
    },

    async list(tenant, page) {
      try {
        const result = await dynamoDb().send(
          new QueryCommand({
            TableName: tableName,
            IndexName: 'gsi1',
            KeyConditionExpression: 'gsi1pk = :p',
            ExpressionAttributeValues: { ':p': listKey(tenant) },
            Limit: page.limit,
            ScanIndexForward: false,
            ExclusiveStartKey: decodeCursor(page.cursor, tenantKey(tenant), ['pk', 'gsi1pk']),
          }),
        );
        return { items: (result.Items ?? []).map(toModel), nextCursor: encodeCursor(result.LastEvaluatedKey) };
      } catch (error) {
        throw translateAwsError('DynamoDB', error);
      }
    },

    async getVersion(tenant, id, version) {
      try {
        const { Item } = await dynamoDb().send(new GetCommand({ TableName: tableName, Key: { pk: tenantKey(tenant), sk: versionKey(id, version) } }));
        if (Item) return toModel(Item);
        // A model trained once has no version item: its record is version 1.
        const current = (await dynamoDb().send(new GetCommand({ TableName: tableName, Key: key(tenant, id) }))).Item;
        return current?.version === version ? toModel(current) : undefined;
      } catch (error) {
        throw translateAwsError('DynamoDB', error);
      }
    },

    async listVersions(tenant, id, page) {
      try {
        const result = await dynamoDb().send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'pk = :p AND begins_with(sk, :v)',
            ExpressionAttributeValues: { ':p': tenantKey(tenant), ':v': versionPrefix(id) },
            Limit: page.limit,
            ScanIndexForward: false,
            ExclusiveStartKey: decodeCursor(page.cursor, tenantKey(tenant), ['pk']),
          }),
        );
        return { items: (result.Items ?? []).map(toModel), nextCursor: encodeCursor(result.LastEvaluatedKey) };
      } catch (error) {
        throw translateAwsError('DynamoDB', error);
      }
    },

    async createVersion(tenant, model) {
      try {
        await dynamoDb().send(
          new PutCommand({
            TableName: tableName,
            Item: { pk: tenantKey(tenant), sk: versionKey(model.id, model.version), ...model },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (error) {
        throw translateAwsError('DynamoDB', error, `Version ${model.version} of model "${model.id}" already exists.`);
      }
    },

    async saveVersion(tenant, model) {
      try {
        await dynamoDb().send(new PutCommand({ TableName: tableName, Item: { pk: tenantKey(tenant), sk: versionKey(model.id, model.version), ...model } }));
      } catch (error) {
        throw translateAwsError('DynamoDB', error);
      }
    },

    async promote(tenant, model) {
      try {
        await dynamoDb().send(
          new PutCommand({
            TableName: tableName,
            Item: { ...key(tenant, model.id), gsi1pk: listKey(tenant), gsi1sk: `${model.createdAt}#${model.id}`, ...model },
            ConditionExpression: 'attribute_not_exists(pk) OR #version < :version',
            ExpressionAttributeNames: { '#version': 'version' },
            ExpressionAttributeValues: { ':version': model.version },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw translateAwsError('DynamoDB', error);
      }
    },

    async update(tenant, id, changes, guard, remove = []) {
      const names: Record<string, string> = { '#updatedAt': 'updatedAt', '#jobId': 'jobId' };
      const values: Record<string, unknown> = { ':now': new Date().toISOString(), ':jobId': guard.jobId };
      const sets = ['#updatedAt = :now'];
      for (const [field, value] of Object.entries(changes)) {
        if (value === undefined) continue;
        names[`#${field}`] = field;
        values[`:${field}`] = value;
        sets.push(`#${field} = :${field}`);
      }
      for (const field of remove) names[`#${field}`] = field;
      const conditions = ['attribute_exists(pk)', '#jobId = :jobId'];
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
            UpdateExpression: `SET ${sets.join(', ')}${remove.length ? ` REMOVE ${remove.map((f) => `#${f}`).join(', ')}` : ''}`,
            ConditionExpression: conditions.join(' AND '),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw translateAwsError('DynamoDB', error);
      }
    },
  };
}
