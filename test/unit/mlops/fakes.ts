/** An in-memory deployment store with the adapter's conditional write, for the use-case tests. */
import type { Deployment } from '../../../shared/mlops/deployment.js';
import type { DeploymentRepository } from '../../../shared/mlops/deploymentRepository.js';
import { ConflictError } from '../../../shared/platform/errors.js';

export function memoryDeployments(): DeploymentRepository & { items: Map<string, Deployment>; writes: number } {
  const items = new Map<string, Deployment>();
  const key = (tenant: string, group: string) => `${tenant}/${group}`;
  const store = {
    items,
    writes: 0,
    async get(tenant: string, group: string) {
      const d = items.get(key(tenant, group));
      return d ? structuredClone(d) : undefined;
    },
    async save(tenant: string, deployment: Deployment) {
      const stored = items.get(key(tenant, deployment.group));
      if ((stored?.revision ?? 0) !== deployment.revision - 1) throw new ConflictError('changed meanwhile');
      items.set(key(tenant, deployment.group), structuredClone(deployment));
      store.writes++;
    },
  };
  return store;
}
