import { driftState, type DriftStateStore } from '../monitoring/driftCheck.js';
import { boundName } from '../platform/config.js';
import { tables } from '../platform/resources.js';
import { followsRevision, itemKey, tenantItems, withoutKeys } from './tenantItems.js';

const driftKey = (group: string, modelId: string, version: number) => `DRIFT#${group}#${modelId}#${version}`;

/**
 * Drift states in the tenant's partition of the monitoring table, one item per (group, model
 * version), written flat. Every write is a conditional put on the revision it follows (as the
 * deployments' are), so of two overlapping ticks one makes a transition.
 */
export function dynamoDriftStateStore(tableName = boundName('TABLE', tables.monitoring.name)): DriftStateStore {
  const items = tenantItems(tableName);
  return {
    async get(tenant, group, modelId, version) {
      const item = await items.get(itemKey(tenant, driftKey(group, modelId, version)));
      return item ? driftState.parse(withoutKeys(item)) : undefined;
    },
    save(tenant, group, modelId, version, state) {
      return items.putIf({ ...itemKey(tenant, driftKey(group, modelId, version)), ...state }, followsRevision(state.revision));
    },
  };
}
