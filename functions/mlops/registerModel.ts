import { s3ModelArtifacts } from '../../shared/aws/modelArtifacts.js';
import { dynamoModelRepository } from '../../shared/aws/modelRepository.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { inspectOnnxModel } from '../../shared/ml/onnx/inspect.js';
import { createSignatureScorer } from '../../shared/ml/registry/byoScorer.js';
import { registerModelVersionRoute } from '../../shared/ml/registry/contract.js';
import { registerModelVersion } from '../../shared/ml/registry/registration.js';

const deps = { models: dynamoModelRepository(), artifacts: s3ModelArtifacts(), inspect: inspectOnnxModel, createScorer: createSignatureScorer };

export const handler = apiHandler(registerModelVersionRoute, async ({ tenant, body }) => {
  const { created, model } = await registerModelVersion(deps, tenant, body);
  return { status: created ? 201 : 200, body: model, headers: { location: `/api/v1/mlops/models/${model.id}/versions` } };
});
