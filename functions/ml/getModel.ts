import { dynamoModelRepository } from '../../shared/aws/modelRepository.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { getModelRoute } from '../../shared/ml/registry/contract.js';
import { getModel } from '../../shared/ml/registry/training.js';

const models = dynamoModelRepository();

export const handler = apiHandler(getModelRoute, async ({ tenant, path }) => ({ status: 200, body: await getModel(models, tenant, path.id) }));
