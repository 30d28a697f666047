import { once } from '../../shared/aws/clients.js';
import { platformMetrics } from '../../shared/aws/metricCounters.js';
import { dynamoDeploymentRepository } from '../../shared/aws/deploymentRepository.js';
import { s3ModelArtifacts } from '../../shared/aws/modelArtifacts.js';
import { dynamoModelRepository } from '../../shared/aws/modelRepository.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { predictRoute } from '../../shared/ml/registry/contract.js';
import { modelLoader } from '../../shared/ml/registry/modelLoader.js';
import { modelStorageConfig } from '../../shared/ml/registry/modelStorage.js';
import { predict } from '../../shared/ml/registry/prediction.js';
import { cachedDeployments, cachedModelRecords } from '../../shared/ml/registry/predictionCache.js';

// Module scope: one onnxruntime session per model version, and model pointers and deployments kept
// a few seconds (predictionCache.ts), for the life of the container.
const loader = modelLoader({ models: cachedModelRecords(dynamoModelRepository()), artifacts: s3ModelArtifacts(), ...modelStorageConfig() });
// Bound on the first request by group: predict by modelId (and its benchmarks) needs no registry table.
const deploymentRepository = once(() => dynamoDeploymentRepository());
const deployments = cachedDeployments({ get: (tenant: string, group: string) => deploymentRepository().get(tenant, group) });

export const handler = apiHandler(predictRoute, async ({ tenant, body }) => {
  const started = performance.now();
  const answer = await predict(loader, tenant, body, deployments);
  // Counted in memory, written in the background: predict never waits on the counters' write.
  platformMetrics().predictLatency(tenant, performance.now() - started);
  return { status: 200, body: answer };
});
