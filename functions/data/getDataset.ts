import { dynamoDatasetRepository } from '../../shared/aws/datasetRepository.js';
import { getDatasetRoute } from '../../shared/data/registry/contract.js';
import { getDataset } from '../../shared/data/registry/datasets.js';
import { apiHandler } from '../../shared/http/apiHandler.js';

const datasets = dynamoDatasetRepository();

export const handler = apiHandler(getDatasetRoute, async ({ tenant, path }) => ({ status: 200, body: await getDataset(datasets, tenant, path.id) }));
