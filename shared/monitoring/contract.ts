import { z } from 'zod';
import { defineRoute } from '../http/route.js';
import { healthReport } from './health.js';

export const healthRoute = defineRoute({
  method: 'GET',
  path: '/api/v1/monitoring/health',
  operationId: 'getHealth',
  summary: 'Health of the platform; with deep=true, of each dependency',
  tag: 'monitoring',
  scope: null,
  request: { query: z.strictObject({ deep: z.stringbool().optional().describe('Probe DynamoDB and S3 and report each latency') }) },
  responses: {
    200: { description: 'Healthy', schema: healthReport },
    503: { description: 'A dependency is down', schema: healthReport },
  },
});
