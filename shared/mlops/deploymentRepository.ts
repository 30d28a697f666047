import type { Deployment } from './deployment.js';

/** The port for deployments; shared/aws/deploymentRepository.ts has the DynamoDB adapter. */
export interface DeploymentRepository {
  get(tenant: string, group: string): Promise<Deployment | undefined>;
  /**
   * Stores `deployment` as the group's next revision: only while the stored one is
   * `deployment.revision - 1` (none at all for revision 1). Otherwise a concurrent change won and
   * this one throws ConflictError, so no change is ever lost.
   */
  save(tenant: string, deployment: Deployment): Promise<void>;
}
