import { z } from 'zod';
import { scopes } from '../gateway/scopes.js';
import { problemResponses } from '../http/problemSchema.js';
import { defineRoute } from '../http/route.js';
import { resourceId } from '../platform/ids.js';
import { deployment, deployRequest } from './deployment.js';

export const deployModelRoute = defineRoute({
  method: 'POST',
  path: '/api/v1/mlops/deploy',
  operationId: 'deployModel',
  summary: 'Change the deployment of a sensor group: promote a model version, set or clear a challenger with a traffic share, roll back',
  tag: 'mlops',
  scope: scopes.models,
  request: { body: deployRequest, maxBodyBytes: 4096 },
  responses: {
    200: { description: 'The deployment after the change', schema: deployment },
    ...problemResponses(400, 401, 403, 404, 409, 413, 415, 503),
  },
});

export const getDeploymentRoute = defineRoute({
  method: 'GET',
  path: '/api/v1/mlops/deployments/{group}',
  operationId: 'getDeployment',
  summary: 'The deployment of a sensor group: champion, challenger and traffic share, history, revision',
  tag: 'mlops',
  scope: scopes.read,
  request: { path: z.object({ group: resourceId }) },
  responses: { 200: { description: 'The deployment', schema: deployment }, ...problemResponses(400, 401, 403, 404) },
});
