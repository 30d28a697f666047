import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { localAccount } from './lambdaRuntime.js';

/** The JWT authorizer's part of the request context, as HTTP API fills it. */
export interface JwtAuthorizerContext {
  jwt: { claims: Record<string, string>; scopes: string[] | null };
}

export type HttpApiEvent = APIGatewayProxyEventV2 & { requestContext: { authorizer?: JwtAuthorizerContext } };

const textual = /^(text\/|application\/(json|[\w.+-]+\+json|xml|[\w.+-]+\+xml|javascript|x-www-form-urlencoded|graphql|yaml)\b)/i;

/** HTTP API base64-encodes bodies it does not consider text. */
export const isTextBody = (contentType: string | undefined): boolean => contentType === undefined || textual.test(contentType);

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => (n < 10 ? `0${n}` : String(n));
/** `12/Mar/2020:19:03:58 +0000`, the CLF time HTTP API puts in requestContext.time. */
function clfTime(date: Date): string {
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** Query parameters as HTTP API gives them: repeated names joined with commas. */
function queryParameters(rawQueryString: string): Record<string, string> | undefined {
  if (rawQueryString === '') return undefined;
  const result: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) result[name] = name in result ? `${result[name]},${value}` : value;
  return result;
}

export interface EventParts {
  request: IncomingMessage;
  rawPath: string;
  rawQueryString: string;
  routeKey: string;
  pathParameters: Record<string, string>;
  body: Buffer | undefined;
  requestId: string;
  authorizer: JwtAuthorizerContext | undefined;
}

/** An API Gateway HTTP API payload 2.0 event for a request the local gateway received. */
export function httpApiEvent(parts: EventParts): HttpApiEvent {
  const { request } = parts;
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  const raw = request.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (name === 'cookie') {
      cookies = [...(cookies ?? []), ...raw[i + 1].split(';').map((c) => c.trim()).filter(Boolean)];
      continue;
    }
    headers[name] = name in headers ? `${headers[name]},${raw[i + 1]}` : raw[i + 1];
  }
  const now = new Date();
  const binary = parts.body !== undefined && !isTextBody(headers['content-type']);
  const sourceIp = request.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1';
  return {
    version: '2.0',
    routeKey: parts.routeKey,
    rawPath: parts.rawPath,
    rawQueryString: parts.rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(parts.rawQueryString ? { queryStringParameters: queryParameters(parts.rawQueryString) } : {}),
    ...(Object.keys(parts.pathParameters).length > 0 ? { pathParameters: parts.pathParameters } : {}),
    requestContext: {
      accountId: localAccount,
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: (headers.host ?? 'localhost').split('.')[0],
      http: { method: request.method ?? 'GET', path: parts.rawPath, protocol: `HTTP/${request.httpVersion}`, sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId: parts.requestId,
      routeKey: parts.routeKey,
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now.getTime(),
      ...(parts.authorizer ? { authorizer: parts.authorizer } : {}),
    },
    ...(parts.body !== undefined ? { body: parts.body.toString(binary ? 'base64' : 'utf8') } : {}),
    isBase64Encoded: binary,
  };
}

/** HTTP API renders every claim as a string; arrays as `[a b]`. */
export function claimsAsStrings(claims: Record<string, unknown>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(claims)) {
    result[name] = typeof value === 'string' ? value : Array.isArray(value) ? `[${value.join(' ')}]` : typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return result;
}

/**
 * Writes a Lambda result as HTTP API does for payload 2.0: a structured result (statusCode,
 * headers, cookies, body, isBase64Encoded), or any other value as a 200 JSON body.
 */
export function writeLambdaResult(response: ServerResponse, result: unknown, extraHeaders: Record<string, string> = {}): void {
  const structured = typeof result === 'object' && result !== null && 'statusCode' in result;
  if (!structured) {
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    response.writeHead(200, { ...extraHeaders, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    response.end(body);
    return;
  }
  const { statusCode, headers = {}, cookies, body = '', isBase64Encoded } = result as APIGatewayProxyStructuredResultV2;
  const payload = isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  const out: Record<string, string | string[]> = { ...extraHeaders };
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = String(value);
  if (cookies && cookies.length > 0) out['set-cookie'] = cookies;
  out['content-length'] = String(payload.length);
  response.writeHead(statusCode ?? 200, out);
  response.end(payload);
}
