import { dynamoDeploymentRepository } from '../../shared/aws/deploymentRepository.js';
import { dynamoModelRepository } from '../../shared/aws/modelRepository.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { deployModelRoute } from '../../shared/mlops/contract.js';
import { deployModel } from '../../shared/mlops/deployments.js';

const deps = { deployments: dynamoDeploymentRepository(), models: dynamoModelRepository() };

export const handler = apiHandler(deployModelRoute, async ({ tenant, body }) => ({ status: 200, body: await deployModel(deps, tenant, body) }));
