import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import httpCors from '@middy/http-cors';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { z } from 'zod';
import { platformConfig } from '../platform/config.js';
import { PayloadTooLargeError, UnauthorizedError, UnsupportedMediaTypeError, ValidationError } from '../platform/errors.js';
import { logger, metrics, tracer } from '../platform/observability.js';
import { authorize, type Principal } from './auth.js';
import { problemResponse, toProblem } from './problem.js';
import type { RouteContract } from './route.js';
import { parseOrThrow } from './validation.js';

/** What a route implementation receives: validated input and the caller. */
export interface ApiRequest<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  path: z.infer<P>;
  query: z.infer<Q>;
  body: z.infer<B>;
  /** Lower-cased request headers. */
  headers: Record<string, string | undefined>;
  correlationId: string;
  /** The caller; anonymous on public routes. */
  principal: Principal | null;
  /** The caller's tenant; throws 401 on a public route, where there is none. */
  tenant: string;
  /** The Lambda context (remaining time, request id). */
  lambdaContext: Context;
}

export interface ApiReply {
  status: number;
  /** Serialised as JSON unless `text` is given. */
  body?: unknown;
  /** A pre-rendered body (e.g. an HTML report) sent as is, with its content-type header. */
  text?: string;
  headers?: Record<string, string>;
}

type TelltaleEvent = APIGatewayProxyEventV2 & {
  telltale?: { correlationId: string; principal: Principal | null; parsed?: { path: unknown; query: unknown; body: unknown } };
};

const correlationIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/** Takes the caller's x-correlation-id when it is sane, else the gateway's request id; echoes it on every response. */
const correlation = (): MiddlewareObj<TelltaleEvent, APIGatewayProxyStructuredResultV2> => {
  const echo = (request: { event: TelltaleEvent; response: APIGatewayProxyStructuredResultV2 | null | undefined }) => {
    const id = request.event.telltale?.correlationId;
    if (request.response && id) request.response.headers = { ...request.response.headers, 'x-correlation-id': id };
  };
  return {
    before: (request) => {
      const given = request.event.headers?.['x-correlation-id'];
      const correlationId = given && correlationIdPattern.test(given) ? given : (request.event.requestContext?.requestId ?? crypto.randomUUID());
      request.event.telltale = { correlationId, principal: null };
      logger.setCorrelationId(correlationId);
    },
    after: echo,
    onError: echo,
  };
};

const headerKey = (headers: Record<string, unknown>, name: string) => Object.keys(headers).find((k) => k.toLowerCase() === name);

/**
 * nosniff on every answer, so a browser never runs a JSON or CSV body as script or HTML. Caches
 * never keep an authenticated answer or a problem (a shared cache would hand them to the next
 * caller); a public route's success keeps the cache-control its handler chose (the API document
 * may be cached briefly), else no-store too.
 */
const securityHeaders = (route: RouteContract): MiddlewareObj<TelltaleEvent, APIGatewayProxyStructuredResultV2> => {
  const apply = (response: APIGatewayProxyStructuredResultV2 | null | undefined, problem: boolean) => {
    if (!response) return;
    const headers = { ...response.headers };
    const cacheKey = headerKey(headers, 'cache-control');
    const keepCaching = route.scope === null && !problem && cacheKey !== undefined;
    if (!keepCaching) {
      if (cacheKey !== undefined) delete headers[cacheKey];
      headers['cache-control'] = 'no-store';
    }
    const sniffKey = headerKey(headers, 'x-content-type-options');
    if (sniffKey !== undefined) delete headers[sniffKey];
    headers['x-content-type-options'] = 'nosniff';
    response.headers = headers;
  };
  return {
    after: (request) => apply(request.response, false),
    onError: (request) => apply(request.response, true),
  };
};

/** Reads the verified JWT claims the gateway (or the local cloud) put on the event; checks tenant and scope. */
const authentication = (route: RouteContract): MiddlewareObj<TelltaleEvent> => ({
  before: (request) => {
    if (route.scope === null) return;
    const claims = (request.event.requestContext as { authorizer?: { jwt?: { claims?: Record<string, unknown> } } }).authorizer?.jwt?.claims;
    request.event.telltale!.principal = authorize(claims, route.scope, platformConfig().TENANT_CLAIM);
  },
});

const isJson = (contentType: string | undefined): boolean => {
  const media = contentType?.split(';')[0].trim().toLowerCase();
  return media === 'application/json' || (media?.startsWith('application/') === true && media.endsWith('+json'));
};

/** Size limit, content type, JSON parsing and zod validation of path, query and body. */
const requestParsing = (route: RouteContract): MiddlewareObj<TelltaleEvent> => ({
  before: (request) => {
    const event = request.event;
    let body: unknown = undefined;
    if (route.request.body) {
      const raw = event.body ?? '';
      const bytes = event.isBase64Encoded ? Math.floor((raw.length * 3) / 4) : Buffer.byteLength(raw);
      const limit = route.request.maxBodyBytes ?? platformConfig().MAX_BODY_BYTES;
      if (bytes > limit) throw new PayloadTooLargeError(`The body is ${bytes} bytes; this route accepts at most ${limit}.`);
      if (raw.length === 0) throw new ValidationError('A JSON body is required.', [{ pointer: 'body', message: 'Required' }]);
      if (!isJson(event.headers?.['content-type'])) {
        throw new UnsupportedMediaTypeError(`Send the body as application/json (got ${event.headers?.['content-type'] ?? 'no content-type'}).`);
      }
      const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
      try {
        body = JSON.parse(text);
      } catch (error) {
        throw new ValidationError(`The body is not valid JSON: ${(error as Error).message}`, [{ pointer: 'body', message: 'Malformed JSON' }]);
      }
      body = parseOrThrow('body', route.request.body, body);
    }
    const path = route.request.path ? parseOrThrow('path', route.request.path, event.pathParameters ?? {}) : {};
    const query = route.request.query ? parseOrThrow('query', route.request.query, event.queryStringParameters ?? {}) : {};
    event.telltale!.parsed = { path, query, body };
  },
});

/** Every error becomes problem+json; only unknown errors are 500s, logged with their stack. */
const problemMapping = (): MiddlewareObj<TelltaleEvent, APIGatewayProxyStructuredResultV2> => ({
  onError: (request) => {
    const problem = toProblem(request.error, request.event.rawPath, request.event.telltale?.correlationId);
    if (problem.status >= 500) logger.error('request failed', { error: request.error as Error });
    else logger.info('request refused', { status: problem.status, detail: problem.detail });
    countResponse(problem.status);
    request.response = problemResponse(problem, request.response?.headers as Record<string, string> | undefined);
  },
});

function countResponse(status: number): void {
  metrics.addMetric(status >= 500 ? 'ServerErrors' : status >= 400 ? 'ClientErrors' : 'Successes', MetricUnit.Count, 1);
}

function corsOrigins(): string[] {
  return platformConfig()
    .CORS_ORIGINS.split(',')
    .map((o) => o.trim())
    .filter(Boolean);
}

/**
 * The one middy pipeline of every API function, in the order middy documents for Powertools:
 * tracer, logger, metrics, then the HTTP middlewares. The route contract drives validation.
 */
export function apiHandler<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
  route: RouteContract<P, Q, B>,
  implementation: (request: ApiRequest<P, Q, B>) => Promise<ApiReply>,
) {
  const base = async (event: TelltaleEvent, lambdaContext: Context): Promise<APIGatewayProxyStructuredResultV2> => {
    const { correlationId, principal, parsed } = event.telltale!;
    const reply = await implementation({
      path: parsed!.path as z.infer<P>,
      query: parsed!.query as z.infer<Q>,
      body: parsed!.body as z.infer<B>,
      headers: event.headers ?? {},
      correlationId,
      principal,
      lambdaContext,
      get tenant(): string {
        if (!principal) throw new UnauthorizedError('This route needs a bearer token.');
        return principal.tenant;
      },
    });
    countResponse(reply.status);
    if (reply.text !== undefined) return { statusCode: reply.status, headers: reply.headers, body: reply.text };
    return {
      statusCode: reply.status,
      headers: { ...(reply.body === undefined ? {} : { 'content-type': 'application/json' }), ...reply.headers },
      body: reply.body === undefined ? '' : JSON.stringify(reply.body),
    };
  };

  const origins = corsOrigins();
  const handler = middy<TelltaleEvent, APIGatewayProxyStructuredResultV2>(base);
  if (tracer) handler.use(captureLambdaHandler(tracer));
  handler
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(httpHeaderNormalizer())
    .use(correlation())
    // Before problemMapping, so that its onError (run in reverse order) sees the problem response.
    .use(securityHeaders(route as RouteContract))
    .use(problemMapping());
  if (origins.length > 0) handler.use(httpCors({ origins, exposeHeaders: 'x-correlation-id' }));
  return handler.use(authentication(route as RouteContract)).use(requestParsing(route as RouteContract));
}
