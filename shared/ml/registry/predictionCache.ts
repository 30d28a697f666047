import type { Deployment } from '../../mlops/deployment.js';
import type { DeploymentRepository } from '../../mlops/deploymentRepository.js';
import { tenantCache } from '../../platform/tenantCache.js';
import type { ModelRecord } from './model.js';
import type { ModelRepository } from './modelRepository.js';

/**
 * How long predict trusts what can change under it: a model's current version (a newer one can be
 * registered or trained) and a group's deployment (promote, challenger, rollback). A change reaches
 * a warm container within this time; the versions themselves are immutable once READY.
 */
export const PREDICT_POINTER_TTL_MS = 5_000;

export interface PredictCacheOptions {
  ttlMs?: number;
  /** Entries kept at most per cache (a model record is a few KB). */
  maxEntries?: number;
  now?: () => number;
}

/**
 * Model records for predict: a model's current record is kept for the TTL once READY; one still
 * training, failed or unknown is read again at once, so it is predicted with as soon as it is READY.
 * Named versions pass through: the loader's session cache already spares their read.
 */
export function cachedModelRecords(models: Pick<ModelRepository, 'get' | 'getVersion'>, options: PredictCacheOptions = {}): Pick<ModelRepository, 'get' | 'getVersion'> {
  const { ttlMs = PREDICT_POINTER_TTL_MS, maxEntries = 1_000, now } = options;
  const current = tenantCache<ModelRecord | undefined>((tenant, id) => models.get(tenant, id), { ttlMs: (record) => (record?.status === 'READY' ? ttlMs : 0), maxEntries, now });
  return { get: (tenant, id) => current.get(tenant, id), getVersion: (tenant, id, version) => models.getVersion(tenant, id, version) };
}

/** Groups' deployments for predict: kept for the TTL; "no deployment" is not kept, so a first promote routes at once. */
export function cachedDeployments(deployments: Pick<DeploymentRepository, 'get'>, options: PredictCacheOptions = {}): Pick<DeploymentRepository, 'get'> {
  const { ttlMs = PREDICT_POINTER_TTL_MS, maxEntries = 10_000, now } = options;
  return tenantCache<Deployment | undefined>((tenant, group) => deployments.get(tenant, group), { ttlMs: (deployment) => (deployment ? ttlMs : 0), maxEntries, now });
}
