import { dynamoDatasetRepository } from '../../shared/aws/datasetRepository.js';
import { s3DatasetObjects } from '../../shared/aws/datasetObjects.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { detectRoute } from '../../shared/ml/api/contract.js';
import { detectAnomalies } from '../../shared/ml/api/detect.js';
import { detectInDataset } from '../../shared/ml/api/detectDataset.js';
import { withHttpErrors } from '../../shared/ml/api/errors.js';

const deps = { datasets: dynamoDatasetRepository(), objects: s3DatasetObjects() };

export const handler = apiHandler(detectRoute, async ({ tenant, body }) => ({
  status: 200,
  body: body.dataset ? await detectInDataset(deps, tenant, body.dataset, body) : withHttpErrors(() => detectAnomalies(body)),
}));
