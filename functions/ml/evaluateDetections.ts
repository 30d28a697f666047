import { dynamoDatasetRepository } from '../../shared/aws/datasetRepository.js';
import { s3DatasetObjects } from '../../shared/aws/datasetObjects.js';
import { s3ModelArtifacts } from '../../shared/aws/modelArtifacts.js';
import { dynamoModelRepository } from '../../shared/aws/modelRepository.js';
import { dynamoVerdictLabelStore } from '../../shared/aws/verdictLabelRepository.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { evaluateRoute, isModelEvaluation, type InlineEvaluateRequest } from '../../shared/ml/api/contract.js';
import { withHttpErrors } from '../../shared/ml/api/errors.js';
import { evaluateDetections } from '../../shared/ml/api/evaluate.js';
import { evaluateModelOnDataset } from '../../shared/ml/api/evaluateModel.js';
import { modelLoader } from '../../shared/ml/registry/modelLoader.js';
import { modelStorageConfig } from '../../shared/ml/registry/modelStorage.js';

const models = dynamoModelRepository();
const artifacts = s3ModelArtifacts();
// Module scope: one onnxruntime session per model version for the life of the container, as predict.
const loader = modelLoader({ models, artifacts, ...modelStorageConfig() });
const deps = { datasets: dynamoDatasetRepository(), objects: s3DatasetObjects(), models, artifacts, loader, verdicts: dynamoVerdictLabelStore() };

export const handler = apiHandler(evaluateRoute, async ({ tenant, body }) => ({
  status: 200,
  // The contract lets through exactly one form: modelId with datasetId, or inline labels.
  body: isModelEvaluation(body) ? await evaluateModelOnDataset(deps, tenant, body) : withHttpErrors(() => evaluateDetections(body as InlineEvaluateRequest)),
}));
