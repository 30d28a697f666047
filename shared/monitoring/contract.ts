import { z } from 'zod';
import { scopes } from '../gateway/scopes.js';
import { defineRoute } from '../http/route.js';
import { dependencyReport, healthReport } from './health.js';

export const healthRoute = defineRoute({
  method: 'GET',
  path: '/api/v1/monitoring/health',
  operationId: 'getHealth',
  summary: 'Health of the platform; with deep=true, the status and latency of each dependency',
  tag: 'monitoring',
  scope: null,
  request: { query: z.strictObject({ deep: z.stringbool().optional().describe('Probe DynamoDB and S3 and report each status and latency') }) },
  responses: {
    200: { description: 'Healthy', schema: healthReport },
    503: { description: 'A dependency is down', schema: healthReport },
  },
});

/** The deep check for operators: the same probes, with the physical resources and the errors. */
export const healthDependenciesRoute = defineRoute({
  method: 'GET',
  path: '/api/v1/monitoring/health/dependencies',
  operationId: 'getHealthDependencies',
  summary: 'Each dependency probed, with its physical resource name and error (operators)',
  tag: 'monitoring',
  scope: scopes.admin,
  request: {},
  responses: {
    200: { description: 'Every dependency is up', schema: dependencyReport },
    503: { description: 'A dependency is down', schema: dependencyReport },
  },
});
