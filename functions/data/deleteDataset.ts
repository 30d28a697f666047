import { s3DatasetObjects } from '../../shared/aws/datasetObjects.js';
import { dynamoDatasetRepository } from '../../shared/aws/datasetRepository.js';
import { deleteDatasetRoute } from '../../shared/data/registry/contract.js';
import { deleteDataset } from '../../shared/data/registry/datasets.js';
import { apiHandler } from '../../shared/http/apiHandler.js';

const deps = { datasets: dynamoDatasetRepository(), objects: s3DatasetObjects() };

export const handler = apiHandler(deleteDatasetRoute, async ({ tenant, path }) => {
  await deleteDataset(deps, tenant, path.id);
  return { status: 204 };
});
