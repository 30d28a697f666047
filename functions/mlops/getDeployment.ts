import { dynamoDeploymentRepository } from '../../shared/aws/deploymentRepository.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { getDeploymentRoute } from '../../shared/mlops/contract.js';
import { getDeployment } from '../../shared/mlops/deployments.js';

const deployments = dynamoDeploymentRepository();

export const handler = apiHandler(getDeploymentRoute, async ({ tenant, path }) => ({ status: 200, body: await getDeployment(deployments, tenant, path.group) }));
