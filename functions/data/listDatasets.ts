import { dynamoDatasetRepository } from '../../shared/aws/datasetRepository.js';
import { listDatasetsRoute } from '../../shared/data/registry/contract.js';
import { listDatasets } from '../../shared/data/registry/datasets.js';
import { apiHandler } from '../../shared/http/apiHandler.js';

const datasets = dynamoDatasetRepository();

export const handler = apiHandler(listDatasetsRoute, async ({ tenant, query }) => ({ status: 200, body: await listDatasets(datasets, tenant, query) }));
