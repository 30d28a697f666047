import { dynamoDatasetRepository } from '../../shared/aws/datasetRepository.js';
import { dynamoModelRepository } from '../../shared/aws/modelRepository.js';
import { stepFunctionsStarter } from '../../shared/aws/workflowStarter.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { trainModelRoute } from '../../shared/ml/registry/contract.js';
import { boundName } from '../../shared/platform/config.js';
import { startTraining } from '../../shared/ml/registry/training.js';

const deps = { models: dynamoModelRepository(), datasets: dynamoDatasetRepository(), starter: stepFunctionsStarter(boundName('STATE_MACHINE', 'trainingPipeline')) };

export const handler = apiHandler(trainModelRoute, async ({ tenant, body, correlationId }) => {
  const model = await startTraining(deps, tenant, body, new Date(), correlationId);
  return { status: 202, body: model, headers: { location: `/api/v1/ml/models/${model.id}` } };
});
