import { s3DatasetObjects } from '../../shared/aws/datasetObjects.js';
import { dynamoDatasetRepository } from '../../shared/aws/datasetRepository.js';
import { dynamoSensorRepository } from '../../shared/aws/sensorRepository.js';
import { registerDatasetRoute } from '../../shared/data/registry/contract.js';
import { registerDataset } from '../../shared/data/registry/datasets.js';
import { uploadLimits } from '../../shared/data/registry/uploadLimits.js';
import { apiHandler } from '../../shared/http/apiHandler.js';

const deps = { datasets: dynamoDatasetRepository(), objects: s3DatasetObjects(), sensors: dynamoSensorRepository(), limits: uploadLimits() };

export const handler = apiHandler(registerDatasetRoute, async ({ tenant, body, correlationId }) => {
  const { dataset, replayed } = await registerDataset(deps, tenant, body, new Date(), correlationId);
  return { status: replayed ? 200 : 201, body: dataset, headers: { location: `/api/v1/datasets/${dataset.id}` } };
});
