import { dynamoModelRepository } from '../../shared/aws/modelRepository.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { listModelVersionsRoute } from '../../shared/ml/registry/contract.js';
import { listModelVersions } from '../../shared/ml/registry/registration.js';

const models = dynamoModelRepository();

export const handler = apiHandler(listModelVersionsRoute, async ({ tenant, path, query }) => ({ status: 200, body: await listModelVersions(models, tenant, path.id, query) }));
