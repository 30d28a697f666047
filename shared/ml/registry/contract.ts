import { z } from 'zod';
import { scopes } from '../../gateway/scopes.js';
import { problemResponses } from '../../http/problemSchema.js';
import { defineRoute } from '../../http/route.js';
import { resourceId } from '../../platform/ids.js';
import { pageOf, pageQuery } from '../../platform/page.js';
import { modelRecord, newTraining } from './model.js';
import { predictRequest, predictResponse } from './prediction.js';
import { newModelVersion } from './registration.js';

export const trainModelRoute = defineRoute({
  method: 'POST',
  path: '/api/v1/ml/train',
  operationId: 'trainModel',
  summary: 'Start training a detector on a READY dataset; answers at once with the model and its job id',
  tag: 'ml',
  scope: scopes.models,
  request: { body: newTraining },
  responses: {
    202: { description: 'Accepted: the model is TRAINING; follow it with GET /ml/models/{id}', schema: modelRecord },
    ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422, 503),
  },
});

export const listModelsRoute = defineRoute({
  method: 'GET',
  path: '/api/v1/ml/models',
  operationId: 'listModels',
  summary: 'List models, newest first, with status and metrics',
  tag: 'ml',
  scope: scopes.read,
  request: { query: z.strictObject({ ...pageQuery }) },
  responses: { 200: { description: 'A page of models', schema: pageOf(modelRecord) }, ...problemResponses(400, 401, 403) },
});

export const getModelRoute = defineRoute({
  method: 'GET',
  path: '/api/v1/ml/models/{id}',
  operationId: 'getModel',
  summary: 'Status, metrics, features, artifact and lineage of a model',
  tag: 'ml',
  scope: scopes.read,
  request: { path: z.object({ id: resourceId }) },
  responses: { 200: { description: 'The model', schema: modelRecord }, ...problemResponses(400, 401, 403, 404) },
});

/** Lambda's synchronous payload limit is 6 MB; 10,000 rows of a few features fit well below. */
export const maxPredictBodyBytes = 6 * 1024 * 1024 - 64 * 1024;

export const predictRoute = defineRoute({
  method: 'POST',
  path: '/api/v1/ml/predict',
  operationId: 'predict',
  summary: 'Score feature rows with a model, or with the deployment of a sensor group (champion or challenger): per row score, label and feature contributions',
  tag: 'ml',
  scope: scopes.read,
  request: { body: predictRequest, maxBodyBytes: maxPredictBodyBytes },
  responses: { 200: { description: 'One result per row, in order', schema: predictResponse }, ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422, 503) },
});

/** The ONNX file travels base64 in the JSON body: up to Lambda's synchronous payload limit (about 4.5 MB of model). */
export const maxRegisterBodyBytes = maxPredictBodyBytes;

export const registerModelVersionRoute = defineRoute({
  method: 'POST',
  path: '/api/v1/mlops/models',
  operationId: 'registerModelVersion',
  summary: 'Register your own ONNX model (PyTorch, scikit-learn, ...) as a new version, checked against its declared signature',
  tag: 'mlops',
  scope: scopes.models,
  request: { body: newModelVersion, maxBodyBytes: maxRegisterBodyBytes },
  responses: {
    201: { description: 'Registered: the new READY version', schema: modelRecord },
    200: { description: 'The same model bytes and declaration were registered before: that version', schema: modelRecord },
    ...problemResponses(400, 401, 403, 409, 413, 415, 422, 503),
  },
});

export const listModelVersionsRoute = defineRoute({
  method: 'GET',
  path: '/api/v1/mlops/models/{id}/versions',
  operationId: 'listModelVersions',
  summary: 'The versions of a model, newest first, with status, artifact and lineage',
  tag: 'mlops',
  scope: scopes.read,
  request: { path: z.object({ id: resourceId }), query: z.strictObject({ ...pageQuery }) },
  responses: { 200: { description: 'A page of versions', schema: pageOf(modelRecord) }, ...problemResponses(400, 401, 403, 404) },
});
