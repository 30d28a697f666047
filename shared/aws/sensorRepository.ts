import { GetCommand, PutCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { boundName } from '../platform/config.js';
import { tables } from '../platform/resources.js';
import type { Sensor } from '../sensors/sensor.js';
import type { SensorRepository } from '../sensors/sensorRepository.js';
import { dynamoDb } from './clients.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { translateAwsError } from './errors.js';

const t = tables.sensors;
const tenantKey = (tenant: string) => `T#${tenant}`;
const sensorKey = (id: string) => `SENSOR#${id}`;

/** Sensors of a tenant share its partition; gsi1 finds them by group, gsi2 by type. */
export function dynamoSensorRepository(tableName = boundName('TABLE', t.name)): SensorRepository {
  return {
    async create(tenant, sensor) {
      try {
        await dynamoDb().send(
          new PutCommand({
            TableName: tableName,
            Item: {
              pk: tenantKey(tenant),
              sk: sensorKey(sensor.id),
              ...(sensor.group ? { gsi1pk: `${tenantKey(tenant)}#GROUP#${sensor.group}`, gsi1sk: sensorKey(sensor.id) } : {}),
              gsi2pk: `${tenantKey(tenant)}#TYPE#${sensor.type}`,
              gsi2sk: sensorKey(sensor.id),
              sensor,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (error) {
        throw translateAwsError('DynamoDB', error, `A sensor with id "${sensor.id}" already exists.`);
      }
    },

    async get(tenant, id) {
      try {
        const { Item } = await dynamoDb().send(new GetCommand({ TableName: tableName, Key: { pk: tenantKey(tenant), sk: sensorKey(id) } }));
        return Item ? (Item.sensor as Sensor) : undefined;
      } catch (error) {
        throw translateAwsError('DynamoDB', error);
      }
    },

    async list(tenant, filter, page) {
      const prefix = tenantKey(tenant);
      const base: Omit<QueryCommandInput, 'KeyConditionExpression'> = {
        TableName: tableName,
        Limit: page.limit,
        ExclusiveStartKey: decodeCursor(page.cursor, prefix, ['pk', 'gsi1pk', 'gsi2pk']),
      };
      let query: QueryCommandInput;
      if (filter.group) {
        query = {
          ...base,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :g',
          ExpressionAttributeValues: { ':g': `${prefix}#GROUP#${filter.group}`, ...(filter.type ? { ':t': filter.type } : {}) },
          ...(filter.type ? { FilterExpression: '#s.#type = :t', ExpressionAttributeNames: { '#s': 'sensor', '#type': 'type' } } : {}),
        };
      } else if (filter.type) {
        query = { ...base, IndexName: 'gsi2', KeyConditionExpression: 'gsi2pk = :t', ExpressionAttributeValues: { ':t': `${prefix}#TYPE#${filter.type}` } };
      } else {
        query = {
          ...base,
          KeyConditionExpression: 'pk = :p AND begins_with(sk, :s)',
          ExpressionAttributeValues: { ':p': prefix, ':s': 'SENSOR#' },
        };
      }
      try {
        const result = await dynamoDb().send(new QueryCommand(query));
        return {
          items: (result.Items ?? []).map((item) => item.sensor as Sensor),
          nextCursor: encodeCursor(result.LastEvaluatedKey),
        };
      } catch (error) {
        throw translateAwsError('DynamoDB', error);
      }
    },
  };
}
