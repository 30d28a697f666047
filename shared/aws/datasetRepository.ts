import { boundName } from '../platform/config.js';
import { tables } from '../platform/resources.js';
import type { Dataset } from '../data/registry/dataset.js';
import type { DatasetRepository } from '../data/registry/datasetRepository.js';
import { itemKey, tenantItems, tenantKey, withoutKeys } from './tenantItems.js';

const datasetKey = (id: string) => `DATASET#${id}`;

/** Dataset records, one item each in the tenant's partition; fields are top-level so steps update them in place. */
export function dynamoDatasetRepository(tableName = boundName('TABLE', tables.datasets.name)): DatasetRepository {
  const items = tenantItems(tableName);
  const key = (tenant: string, id: string) => itemKey(tenant, datasetKey(id));
  return {
    async create(tenant, dataset) {
      await items.putNew({ ...key(tenant, dataset.id), ...dataset }, `A dataset with id "${dataset.id}" already exists.`);
    },

    async get(tenant, id) {
      const item = await items.get(key(tenant, id));
      return item ? withoutKeys<Dataset>(item) : undefined;
    },

    async list(tenant, page) {
      const query = { KeyConditionExpression: 'pk = :p AND begins_with(sk, :s)', ExpressionAttributeValues: { ':p': tenantKey(tenant), ':s': 'DATASET#' }, ScanIndexForward: false };
      return items.queryPage(tenant, query, page, ['pk'], withoutKeys<Dataset>);
    },

    async update(tenant, id, changes, guard = {}) {
      return items.update(key(tenant, id), { set: changes, guard });
    },

    async takeOver(tenant, id, run, changes) {
      // A record without a run, or whose run is this one (a retry) or an earlier one.
      const condition = {
        expression: 'attribute_not_exists(#run) OR #run.#runId = :runId OR attribute_not_exists(#run.#order) OR #run.#order <= :order',
        names: { '#run': 'run', '#runId': 'id', '#order': 'order' },
        values: { ':runId': run.id, ':order': run.order ?? '' },
      };
      return items.update(key(tenant, id), { set: { ...changes, run }, condition });
    },

    async remove(tenant, id) {
      return items.remove(key(tenant, id));
    },

    async clear(tenant, id, fields, guard = {}) {
      if (fields.length === 0) return;
      // A compensation that lost to a newer run (or to a deleted record) has nothing left to undo.
      await items.update(key(tenant, id), { remove: fields, guard });
    },
  };
}
