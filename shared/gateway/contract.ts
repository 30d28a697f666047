import { z } from 'zod';
import { defineRoute } from '../http/route.js';

export const openApiRoute = defineRoute({
  method: 'GET',
  path: '/api/v1/openapi.json',
  operationId: 'getOpenApiDocument',
  summary: 'The OpenAPI 3.1 document of this API',
  tag: 'gateway',
  scope: null,
  request: {},
  responses: { 200: { description: 'OpenAPI 3.1 document', schema: z.record(z.string(), z.unknown()) } },
});
