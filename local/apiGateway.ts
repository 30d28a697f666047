import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { JWTPayload } from 'jose';
import { problemResponse, toProblem, problemTypeUri, type Problem } from '../shared/http/problem.js';
import type { RouteContract } from '../shared/http/route.js';
import { ForbiddenError, PayloadTooLargeError, UnauthorizedError } from '../shared/platform/errors.js';
import { claimsAsStrings, httpApiEvent, writeLambdaResult, type JwtAuthorizerContext } from './httpApiEvent.js';
import { invokeFunction, type LocalFunction } from './lambdaRuntime.js';
import { createRouteTable } from './routeTable.js';
import { InvalidTokenError, type TokenVerifier } from './tokens.js';

/** API Gateway's own payload limit. */
export const gatewayMaxBodyBytes = 10 * 1024 * 1024;

/** Local pages served beside the API (docs, JWKS, queue inspection); return false to fall through. */
export type LocalPages = (request: IncomingMessage, response: ServerResponse, url: URL) => boolean;

export interface ApiGatewayOptions {
  routes: readonly { route: RouteContract; fn: LocalFunction }[];
  verifyToken: TokenVerifier;
  pages?: LocalPages;
  maxBodyBytes?: number;
  /** Called with errors a handler threw (they become 500s, as on AWS). */
  onHandlerError?: (error: unknown, routeKey: string) => void;
}

const correlationIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

function writeProblem(response: ServerResponse, problem: Problem, headers: Record<string, string> = {}): void {
  writeLambdaResult(response, problemResponse(problem, headers), { 'x-correlation-id': problem.correlationId ?? '' });
}

/** Reads the body up to the limit; `undefined` when there is none, `'tooLarge'` past the limit. */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined | 'tooLarge'> {
  const declared = Number(request.headers['content-length'] ?? 0);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = declared > limit;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      // Past the limit keep draining, so the client sees the 413 rather than a reset; give up on abuse.
      if (tooLarge) {
        if (size > limit * 4) request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(tooLarge ? 'tooLarge' : size === 0 ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/**
 * The local HTTP API: matches the catalog's routes, authorises bearer JWTs as HTTP API's JWT
 * authorizer does (signature, iss, aud, exp, nbf, then the route's scope), builds a payload 2.0
 * event and calls the handler in process.
 *
 * Where AWS answers `{"message":"Unauthorized"}`, this answers our problem+json with a
 * `www-authenticate: Bearer` header and the correlation id, so clients see one error format.
 */
export function createApiGateway(options: ApiGatewayOptions): Server {
  const match = createRouteTable(options.routes.map(({ route, fn }) => ({ route, target: fn })));
  const limit = options.maxBodyBytes ?? gatewayMaxBodyBytes;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = crypto.randomUUID();
    const given = request.headers['x-correlation-id'];
    const correlationId = typeof given === 'string' && correlationIdPattern.test(given) ? given : requestId;
    const target = request.url ?? '/';
    const queryAt = target.indexOf('?');
    const rawPath = queryAt === -1 ? target : target.slice(0, queryAt);
    const rawQueryString = queryAt === -1 ? '' : target.slice(queryAt + 1);
    const method = request.method ?? 'GET';
    const refuse = (error: Error, headers: Record<string, string> = {}) => writeProblem(response, toProblem(error, rawPath, correlationId), headers);

    const found = match(method, rawPath);
    if (found.kind !== 'found') {
      if (found.kind === 'notFound' && options.pages?.(request, response, new URL(target, 'http://local'))) return;
      request.resume();
      if (found.kind === 'wrongMethod') {
        const problem = { type: problemTypeUri('method-not-allowed'), title: 'Method not allowed', status: 405, detail: `${rawPath} answers ${found.allowed.join(', ')}.`, instance: rawPath, correlationId };
        return writeProblem(response, problem, { allow: found.allowed.join(', ') });
      }
      const status = found.kind === 'badPath' ? 400 : 404;
      const problem = {
        type: problemTypeUri(status === 400 ? 'validation-failed' : 'route-not-found'),
        title: status === 400 ? 'Request validation failed' : 'Not found',
        status,
        detail: status === 400 ? 'The path has a malformed percent-escape.' : `No route ${method} ${rawPath}.`,
        instance: rawPath,
        correlationId,
      };
      return writeProblem(response, problem);
    }

    const { route, target: fn, pathParameters } = found;
    let authorizer: JwtAuthorizerContext | undefined;
    if (route.scope !== null) {
      const header = request.headers.authorization;
      const token = header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
      if (!token) {
        request.resume();
        return refuse(new UnauthorizedError('This route needs a bearer token (Authorization: Bearer <jwt>).'), { 'www-authenticate': 'Bearer' });
      }
      let claims: JWTPayload;
      try {
        claims = await options.verifyToken(token);
      } catch (error) {
        request.resume();
        const reason = error instanceof InvalidTokenError ? error.message : 'the token could not be verified';
        return refuse(new UnauthorizedError(`The bearer token was refused: ${reason}.`), { 'www-authenticate': `Bearer error="invalid_token", error_description="${reason}"` });
      }
      const granted = typeof claims.scope === 'string' ? claims.scope.split(' ') : Array.isArray(claims.scp) ? claims.scp.map(String) : [];
      if (!granted.includes(route.scope)) {
        request.resume();
        return refuse(new ForbiddenError(`The token lacks the scope "${route.scope}" that this route needs.`), {
          'www-authenticate': `Bearer error="insufficient_scope", scope="${route.scope}"`,
        });
      }
      authorizer = { jwt: { claims: claimsAsStrings(claims), scopes: granted } };
    }

    const body = await readBody(request, limit);
    if (body === 'tooLarge') {
      return refuse(new PayloadTooLargeError(`The body exceeds the API's limit of ${limit} bytes.`), { connection: 'close' });
    }

    const routeKey = `${route.method} ${route.path}`;
    const event = httpApiEvent({ request, rawPath, rawQueryString, routeKey, pathParameters, body, requestId, authorizer });
    let result: unknown;
    try {
      result = await invokeFunction(fn, event, requestId);
    } catch (error) {
      options.onHandlerError?.(error, routeKey);
      return refuse(error instanceof Error ? Object.assign(new Error('handler failed'), { cause: error }) : new Error('handler failed'));
    }
    writeLambdaResult(response, result);
  }

  const server = createServer({ keepAliveTimeout: 30_000 }, (request, response) => {
    handle(request, response).catch((error: unknown) => {
      options.onHandlerError?.(error, `${request.method} ${request.url}`);
      if (!response.headersSent) writeProblem(response, toProblem(error, request.url, undefined));
      else response.destroy();
    });
  });
  return server;
}
