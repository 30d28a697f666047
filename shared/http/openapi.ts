import { z } from 'zod';
import { scopeDescriptions } from '../gateway/scopes.js';
import type { RouteContract } from './route.js';

type JsonSchema = Record<string, unknown>;

const toSchema = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
};

/** Optional when undefined parses (optional or defaulted). */
const isRequired = (schema: z.ZodType) => !schema.safeParse(undefined).success;

function parameters(where: 'path' | 'query', schema: z.ZodType | undefined) {
  if (!(schema instanceof z.ZodObject)) return [];
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => ({
    name,
    in: where,
    required: where === 'path' ? true : isRequired(field),
    ...(field.description ? { description: field.description } : {}),
    schema: toSchema(field, 'input'),
  }));
}

function operation(route: RouteContract) {
  const headers = (route.request.headers ?? []).map((h) => ({ name: h.name, in: 'header', required: h.required ?? false, description: h.description, schema: { type: 'string' } }));
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    ...(route.scope === null ? { security: [] } : { security: [{ bearerAuth: [route.scope] }] }),
    parameters: [...parameters('path', route.request.path), ...parameters('query', route.request.query), ...headers],
    ...(route.request.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: toSchema(route.request.body, 'input') } } } }
      : {}),
    responses: Object.fromEntries(
      Object.entries(route.responses).map(([status, response]) => {
        const media = Number(status) >= 400 ? 'application/problem+json' : 'application/json';
        const content = response.schema ? { [media]: { schema: toSchema(response.schema, 'output') } } : {};
        for (const other of response.alsoProduces ?? []) content[other] = { schema: { type: 'string' } };
        return [status, { description: response.description, ...(Object.keys(content).length ? { content } : {}), headers: { 'x-correlation-id': { $ref: '#/components/headers/CorrelationId' } } }];
      }),
    ),
  };
}

/** The OpenAPI 3.1 document, generated from the same contracts that validate requests. */
export function buildOpenApiDocument(routes: readonly RouteContract[], info: { version: string; serverUrl?: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    paths[route.path] ??= {};
    paths[route.path][route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Telltale API',
      version: info.version,
      description:
        'Anomaly detection and predictive maintenance. Every route but health and this document needs a bearer JWT whose `tenant` claim names the tenant and whose `scope` claim carries the scope shown on the route. Errors are RFC 9457 problem+json.',
    },
    ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
    paths,
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: `Scopes: ${Object.entries(scopeDescriptions).map(([s, d]) => `${s} (${d})`).join('; ')}`,
        },
      },
      headers: { CorrelationId: { description: 'Echoes x-correlation-id, or the id given to the request', schema: { type: 'string' } } },
    },
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
  };
}
