import type { Deployment } from '../mlops/deployment.js';
import type { DeploymentRepository } from '../mlops/deploymentRepository.js';
import { boundName } from '../platform/config.js';
import { ConflictError } from '../platform/errors.js';
import { tables } from '../platform/resources.js';
import { itemKey, tenantItems, withoutKeys } from './tenantItems.js';

const deploymentKey = (group: string) => `DEPLOYMENT#${group}`;
const toDeployment = withoutKeys<Deployment>;

/**
 * One item per group in the tenant's partition of the registry table, written flat. Every change
 * is a conditional put on the revision it was made from (dynalite has no transactions, and one
 * item needs none), so of two concurrent changes one wins and the other gets 409.
 */
export function dynamoDeploymentRepository(tableName = boundName('TABLE', tables.registry.name)): DeploymentRepository {
  const items = tenantItems(tableName);
  return {
    async get(tenant, group) {
      const item = await items.get(itemKey(tenant, deploymentKey(group)));
      return item ? toDeployment(item) : undefined;
    },

    async save(tenant, deployment) {
      const condition =
        deployment.revision === 1
          ? { expression: 'attribute_not_exists(pk)' }
          : { expression: '#revision = :previous', names: { '#revision': 'revision' }, values: { ':previous': deployment.revision - 1 } };
      const written = await items.putIf({ ...itemKey(tenant, deploymentKey(deployment.group)), ...deployment }, condition);
      if (!written) throw new ConflictError(`The deployment of group "${deployment.group}" changed meanwhile; read it again and retry.`);
    },
  };
}
