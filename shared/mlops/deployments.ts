import type { ModelRepository } from '../ml/registry/modelRepository.js';
import { ConflictError, NotFoundError } from '../platform/errors.js';
import type { Deployment, DeploymentRole, DeployRequest, ModelRef } from './deployment.js';
import type { DeploymentRepository } from './deploymentRepository.js';
import { clearChallenger, promote, rollback, setChallenger } from './deploymentRules.js';
import { chooseRole } from './routing.js';

export interface DeploymentDeps {
  deployments: DeploymentRepository;
  models: Pick<ModelRepository, 'get' | 'getVersion'>;
  now?: () => Date;
}

/** The version to deploy, pinned: the given one, or the model's current one; it must be READY. */
async function readyVersion(models: DeploymentDeps['models'], tenant: string, modelId: string, version: number | undefined): Promise<ModelRef> {
  const record = version === undefined ? await models.get(tenant, modelId) : await models.getVersion(tenant, modelId, version);
  if (!record) throw new NotFoundError(version === undefined ? `No model "${modelId}".` : `No model "${modelId}" with a version ${version}.`);
  if (record.status !== 'READY') throw new ConflictError(`Model "${modelId}" version ${record.version} is ${record.status}; only a READY version can be deployed.`);
  return { modelId, version: record.version };
}

/**
 * Changes a group's deployment: promote, set or clear a challenger, roll back.
 * Primary course: the deployment is read, the action's rule gives the next revision, and it is
 * written on condition that the stored revision is still the one read; the new deployment is answered.
 * Alternatives: an unknown or another tenant's model 404, a version not READY 409; no deployment
 * (other than for promote) 404; nothing to roll back to 409; `revision` given and not the stored
 * one 409; a concurrent change between the read and the write 409. A change already in place
 * (a retried promote) writes nothing and answers the deployment as it is.
 */
export async function deployModel(deps: DeploymentDeps, tenant: string, request: DeployRequest): Promise<Deployment> {
  const { group } = request;
  const current = await deps.deployments.get(tenant, group);
  if (request.revision !== undefined && current?.revision !== request.revision) {
    throw new ConflictError(current ? `The deployment of group "${group}" is at revision ${current.revision}, not ${request.revision}.` : `Group "${group}" has no deployment yet.`);
  }
  const now = (deps.now ?? (() => new Date()))();
  let next: Deployment;
  switch (request.action) {
    case 'promote':
      next = promote(current, group, await readyVersion(deps.models, tenant, request.modelId, request.version), now);
      break;
    case 'set-challenger':
      next = setChallenger(current, group, await readyVersion(deps.models, tenant, request.modelId, request.version), request.trafficShare, now);
      break;
    case 'clear-challenger':
      next = clearChallenger(current, group, now);
      break;
    case 'rollback':
      next = rollback(current, group, now);
      break;
  }
  if (next !== current) await deps.deployments.save(tenant, next);
  return next;
}

/** A tenant's deployment of a group; another tenant's or none is the same 404. */
export async function getDeployment(deployments: Pick<DeploymentRepository, 'get'>, tenant: string, group: string): Promise<Deployment> {
  const found = await deployments.get(tenant, group);
  if (!found) throw new NotFoundError(`Group "${group}" has no deployment.`);
  return found;
}

export interface RoutedModel {
  model: ModelRef;
  deployment: { group: string; revision: number; role: DeploymentRole };
}

/** The model version that answers a predict request for `group`: champion, or challenger for its share (see chooseRole). */
export async function routeToDeployment(deployments: Pick<DeploymentRepository, 'get'>, tenant: string, group: string, routingKey?: string, random?: () => number): Promise<RoutedModel> {
  const deployment = await getDeployment(deployments, tenant, group);
  const role = chooseRole(deployment, routingKey, random);
  const chosen = role === 'challenger' && deployment.challenger ? deployment.challenger : deployment.champion;
  return { model: { modelId: chosen.modelId, version: chosen.version }, deployment: { group, revision: deployment.revision, role } };
}
