import { dynamoModelRepository } from '../../shared/aws/modelRepository.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { listModelsRoute } from '../../shared/ml/registry/contract.js';
import { listModels } from '../../shared/ml/registry/training.js';

const models = dynamoModelRepository();

export const handler = apiHandler(listModelsRoute, async ({ tenant, query }) => ({ status: 200, body: await listModels(models, tenant, query) }));
