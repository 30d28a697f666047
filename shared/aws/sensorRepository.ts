import { boundName } from '../platform/config.js';
import { tables } from '../platform/resources.js';
import type { Sensor } from '../sensors/sensor.js';
import type { SensorRepository } from '../sensors/sensorRepository.js';
import { itemKey, tenantItems, tenantKey, type Item, type PageQuery } from './tenantItems.js';

const t = tables.sensors;
const sensorKey = (id: string) => `SENSOR#${id}`;
/** Sensors are kept whole under `sensor`, not flat: the indexes' key attributes sit beside it. */
const toSensor = (item: Item) => item.sensor as Sensor;

/** Sensors of a tenant share its partition; gsi1 finds them by group, gsi2 by type. */
export function dynamoSensorRepository(tableName = boundName('TABLE', t.name)): SensorRepository {
  const items = tenantItems(tableName);
  return {
    async create(tenant, sensor) {
      await items.putNew(
        {
          ...itemKey(tenant, sensorKey(sensor.id)),
          ...(sensor.group ? { gsi1pk: `${tenantKey(tenant)}#GROUP#${sensor.group}`, gsi1sk: sensorKey(sensor.id) } : {}),
          gsi2pk: `${tenantKey(tenant)}#TYPE#${sensor.type}`,
          gsi2sk: sensorKey(sensor.id),
          sensor,
        },
        `A sensor with id "${sensor.id}" already exists.`,
      );
    },

    async get(tenant, id) {
      const item = await items.get(itemKey(tenant, sensorKey(id)));
      return item ? toSensor(item) : undefined;
    },

    async list(tenant, filter, page) {
      const prefix = tenantKey(tenant);
      let query: PageQuery;
      if (filter.group) {
        query = {
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :g',
          ExpressionAttributeValues: { ':g': `${prefix}#GROUP#${filter.group}`, ...(filter.type ? { ':t': filter.type } : {}) },
          ...(filter.type ? { FilterExpression: '#s.#type = :t', ExpressionAttributeNames: { '#s': 'sensor', '#type': 'type' } } : {}),
        };
      } else if (filter.type) {
        query = { IndexName: 'gsi2', KeyConditionExpression: 'gsi2pk = :t', ExpressionAttributeValues: { ':t': `${prefix}#TYPE#${filter.type}` } };
      } else {
        query = { KeyConditionExpression: 'pk = :p AND begins_with(sk, :s)', ExpressionAttributeValues: { ':p': prefix, ':s': 'SENSOR#' } };
      }
      return items.queryPage(tenant, query, page, ['pk', 'gsi1pk', 'gsi2pk'], toSensor);
    },
  };
}
