import { s3DatasetObjects } from '../../shared/aws/datasetObjects.js';
import { dynamoDatasetRepository } from '../../shared/aws/datasetRepository.js';
import { dynamoSensorRepository } from '../../shared/aws/sensorRepository.js';
import { registerDatasetRoute } from '../../shared/data/registry/contract.js';
import { registerDataset } from '../../shared/data/registry/datasets.js';
import { apiHandler } from '../../shared/http/apiHandler.js';

const deps = { datasets: dynamoDatasetRepository(), objects: s3DatasetObjects(), sensors: dynamoSensorRepository() };

export const handler = apiHandler(registerDatasetRoute, async ({ tenant, body }) => {
  const dataset = await registerDataset(deps, tenant, body);
  return { status: 201, body: dataset, headers: { location: `/api/v1/datasets/${dataset.id}` } };
});
