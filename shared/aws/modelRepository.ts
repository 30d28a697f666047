import type { ModelRecord } from '../ml/registry/model.js';
import type { ModelRepository } from '../ml/registry/modelRepository.js';
import { boundName } from '../platform/config.js';
import { tables } from '../platform/resources.js';
import { itemKey, tenantItems, tenantKey, withoutKeys } from './tenantItems.js';

const modelKey = (id: string) => `MODEL#${id}`;
/** Versions sort by number: zero-padded, and ids hold no '#', so one model's versions share a prefix no other model's do. */
const versionPrefix = (id: string) => `VERSION#${id}#`;
const versionKey = (id: string, version: number) => `${versionPrefix(id)}${String(version).padStart(10, '0')}`;
/** gsi1 lists a tenant's models by creation time. */
const listKey = (tenant: string) => `${tenantKey(tenant)}#MODELS`;

const toModel = withoutKeys<ModelRecord>;

/**
 * Model records, one item each in the tenant's partition; fields are top-level so training steps
 * update them in place. Registered versions are items of their own beside it (no gsi1 keys, so the
 * model listing shows each model once, at its current version).
 */
export function dynamoModelRepository(tableName = boundName('TABLE', tables.models.name)): ModelRepository {
  const items = tenantItems(tableName);
  const key = (tenant: string, id: string) => itemKey(tenant, modelKey(id));
  const currentItem = (tenant: string, model: ModelRecord) => ({ ...key(tenant, model.id), gsi1pk: listKey(tenant), gsi1sk: `${model.createdAt}#${model.id}`, ...model });
  const versionItem = (tenant: string, model: ModelRecord) => ({ ...itemKey(tenant, versionKey(model.id, model.version)), ...model });
  return {
    async create(tenant, model) {
      await items.putNew(currentItem(tenant, model), `A model with id "${model.id}" already exists.`);
    },

    async get(tenant, id) {
      const item = await items.get(key(tenant, id));
      return item ? toModel(item) : undefined;
    },

    async list(tenant, page) {
      const query = { IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :p', ExpressionAttributeValues: { ':p': listKey(tenant) }, ScanIndexForward: false };
      return items.queryPage(tenant, query, page, ['pk', 'gsi1pk'], toModel);
    },

    async getVersion(tenant, id, version) {
      const item = await items.get(itemKey(tenant, versionKey(id, version)));
      if (item) return toModel(item);
      // A model trained once has no version item: its record is version 1.
      const current = await items.get(key(tenant, id));
      return current?.version === version ? toModel(current) : undefined;
    },

    async listVersions(tenant, id, page) {
      const query = { KeyConditionExpression: 'pk = :p AND begins_with(sk, :v)', ExpressionAttributeValues: { ':p': tenantKey(tenant), ':v': versionPrefix(id) }, ScanIndexForward: false };
      return items.queryPage(tenant, query, page, ['pk'], toModel);
    },

    async createVersion(tenant, model) {
      await items.putNew(versionItem(tenant, model), `Version ${model.version} of model "${model.id}" already exists.`);
    },

    async saveVersion(tenant, model) {
      await items.put(versionItem(tenant, model));
    },

    async promote(tenant, model) {
      return items.putIf(currentItem(tenant, model), { expression: 'attribute_not_exists(pk) OR #version < :version', names: { '#version': 'version' }, values: { ':version': model.version } });
    },

    async update(tenant, id, changes, guard, remove = []) {
      return items.update(key(tenant, id), { set: changes, remove, guard });
    },
  };
}
