import { s3DatasetObjects } from '../../shared/aws/datasetObjects.js';
import { dynamoDatasetRepository } from '../../shared/aws/datasetRepository.js';
import { stepFunctionsStarter } from '../../shared/aws/workflowStarter.js';
import { rerunDatasetPipeline } from '../../shared/data/pipeline/start.js';
import { rerunDatasetRoute } from '../../shared/data/registry/contract.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { boundName } from '../../shared/platform/config.js';

const deps = { datasets: dynamoDatasetRepository(), objects: s3DatasetObjects(), workflows: stepFunctionsStarter(boundName('STATE_MACHINE', 'datasetPipeline')) };

export const handler = apiHandler(rerunDatasetRoute, async ({ tenant, path, correlationId }) => ({
  status: 202,
  body: await rerunDatasetPipeline(deps, tenant, path.id, new Date(), correlationId),
  headers: { location: `/api/v1/datasets/${path.id}` },
}));
