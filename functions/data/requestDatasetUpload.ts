import { s3DatasetObjects } from '../../shared/aws/datasetObjects.js';
import { dynamoDatasetRepository } from '../../shared/aws/datasetRepository.js';
import { requestUploadRoute } from '../../shared/data/registry/contract.js';
import { requestUpload } from '../../shared/data/registry/datasets.js';
import { uploadLimits } from '../../shared/data/registry/uploadLimits.js';
import { apiHandler } from '../../shared/http/apiHandler.js';

const deps = { datasets: dynamoDatasetRepository(), objects: s3DatasetObjects(), limits: uploadLimits() };

export const handler = apiHandler(requestUploadRoute, async ({ tenant, path, body, correlationId }) => ({
  status: 200,
  body: await requestUpload(deps, tenant, path.id, body.sizeBytes, new Date(), correlationId),
}));
