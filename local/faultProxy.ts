import { Agent, createServer, request as forward, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import type { FaultKind, FaultPlan } from './faults.js';

/** The services the proxy stands in front of: DynamoDB (dynalite) and S3 (s3rver). */
export type ProxiedService = 'dynamodb' | 's3';

export interface FaultProxy {
  endpoint: string;
  stop(): Promise<void>;
}

/** An error answer as the service sends it: status, headers and body. */
interface ErrorAnswer {
  status: number;
  headers: Record<string, string | number>;
  body: string;
}

const requestId = () => crypto.randomUUID().replaceAll('-', '').slice(0, 16).toUpperCase();

const dynamoDbErrors: Partial<Record<FaultKind, { type: string; message: string }>> = {
  throttle: {
    type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
    message: 'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
  },
  throttling: {
    type: 'com.amazon.coral.availability#ThrottlingException',
    message: 'Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your table or index so please try again shortly.',
  },
  conditional: { type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException', message: 'The conditional request failed' },
};

/** DynamoDB's awsJson1_0 error: a 400 with `__type`, and the CRC32 of the body that SDKs may check. */
function dynamoDbError(kind: FaultKind): ErrorAnswer {
  const error = dynamoDbErrors[kind];
  if (!error) throw new Error(`No DynamoDB answer for fault ${kind}`);
  const body = JSON.stringify({ __type: error.type, message: error.message });
  return {
    status: 400,
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': requestId(), 'x-amz-crc32': crc32(body), 'content-length': Buffer.byteLength(body) },
    body,
  };
}

const s3Errors: Partial<Record<FaultKind, { status: number; code: string; message: string }>> = {
  '500': { status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.' },
  '503': { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' },
};

/** S3's REST-XML error document (no body on HEAD, as S3 sends). */
function s3Error(kind: FaultKind, method: string, resource: string): ErrorAnswer {
  const error = s3Errors[kind];
  if (!error) throw new Error(`No S3 answer for fault ${kind}`);
  const id = requestId();
  const hostId = Buffer.from(crypto.randomUUID()).toString('base64');
  const body =
    method === 'HEAD'
      ? ''
      : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${error.code}</Code><Message>${error.message}</Message><Resource>${resource}</Resource><RequestId>${id}</RequestId><HostId>${hostId}</HostId></Error>`;
  return {
    status: error.status,
    headers: { 'content-type': 'application/xml', 'x-amz-request-id': id, 'x-amz-id-2': hostId, server: 'AmazonS3', 'content-length': Buffer.byteLength(body) },
    body,
  };
}

/** The S3 API action of a path-style request, from its method, path, query and headers. */
export function s3Operation(method: string, url: URL, headers: IncomingHttpHeaders): string {
  const [bucket, ...key] = url.pathname.replace(/^\//, '').split('/');
  const has = (name: string) => url.searchParams.has(name);
  if (!bucket) return 'ListBuckets';
  if (key.join('/') === '') {
    if (method === 'GET') return has('location') ? 'GetBucketLocation' : url.searchParams.get('list-type') === '2' ? 'ListObjectsV2' : has('uploads') ? 'ListMultipartUploads' : 'ListObjects';
    if (method === 'POST' && has('delete')) return 'DeleteObjects';
    return ({ HEAD: 'HeadBucket', PUT: 'CreateBucket', DELETE: 'DeleteBucket' } as Record<string, string>)[method] ?? `${method}Bucket`;
  }
  const copy = typeof headers['x-amz-copy-source'] === 'string';
  if (method === 'PUT') return has('partNumber') && has('uploadId') ? (copy ? 'UploadPartCopy' : 'UploadPart') : copy ? 'CopyObject' : 'PutObject';
  if (method === 'POST') return has('uploads') ? 'CreateMultipartUpload' : has('uploadId') ? 'CompleteMultipartUpload' : 'PostObject';
  if (method === 'DELETE') return has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
  if (method === 'GET') return has('uploadId') ? 'ListParts' : 'GetObject';
  if (method === 'HEAD') return 'HeadObject';
  return `${method}Object`;
}

const readBody = (request: IncomingMessage) =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });

/**
 * A small HTTP proxy in front of dynalite or s3rver that fails calls as the plan says, with the
 * status, headers and body AWS sends, so the SDK's retries and our error mapping run for real:
 * DynamoDB throttling and conditional-check failures (these only on writes with a condition), S3
 * InternalError and SlowDown, and S3 bodies cut short (the headers promise every byte, the
 * connection closes half way). Everything else passes through unchanged, signatures included
 * (the Host header is kept).
 */
export async function startFaultProxy(service: ProxiedService, upstream: string, plan: FaultPlan): Promise<FaultProxy> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true });

  const answer = (response: ServerResponse, error: ErrorAnswer) => {
    response.writeHead(error.status, error.headers);
    response.end(error.body);
  };

  /** Sends the request on, and the answer back; `truncate` cuts the answer's body at half. */
  const pass = (request: IncomingMessage, response: ServerResponse, body: Buffer | undefined, truncate: boolean) => {
    const outgoing = forward({ host: target.hostname, port: target.port, method: request.method, path: request.url, headers: request.headers, agent }, (upstreamResponse) => {
      const length = Number(upstreamResponse.headers['content-length'] ?? 0);
      response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
      if (!truncate || request.method === 'HEAD' || length < 2) return void upstreamResponse.pipe(response);
      // A premature close: half the promised bytes, then the connection drops.
      let sent = 0;
      const cut = Math.floor(length / 2);
      upstreamResponse.on('data', (chunk: Buffer) => {
        if (sent >= cut) return;
        const part = chunk.subarray(0, cut - sent);
        sent += part.length;
        if (sent < cut) return void response.write(part);
        // Dropped once the bytes are out, so the client has the headers and half the body.
        upstreamResponse.destroy();
        response.write(part, () => response.socket?.destroy());
      });
    });
    // The service is down (stopService): drop the connection, as a dead endpoint would.
    outgoing.on('error', () => response.socket?.destroy());
    if (body) outgoing.end(body);
    else request.pipe(outgoing);
  };

  const server: Server = createServer((request, response) => {
    const method = request.method ?? 'GET';
    if (service === 'dynamodb') {
      void readBody(request).then((body) => {
        const operation = String(request.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
        const input = (() => {
          try {
            return JSON.parse(body.toString('utf8')) as { ConditionExpression?: unknown; Expected?: unknown };
          } catch {
            return {};
          }
        })();
        const conditional = input.ConditionExpression !== undefined || input.Expected !== undefined;
        const fault = plan.has('dynamodb') ? plan.draw('dynamodb', operation, (kind) => kind !== 'conditional' || conditional) : undefined;
        if (fault) return answer(response, dynamoDbError(fault.kind));
        pass(request, response, body, false);
      }, () => response.socket?.destroy());
      return;
    }
    const url = new URL(request.url ?? '/', 'http://proxy');
    const operation = s3Operation(method, url, request.headers);
    const fault = plan.has('s3') ? plan.draw('s3', operation) : undefined;
    if (fault && fault.kind !== 'truncate') {
      // Read what the client sends first, so it sees the answer rather than a broken pipe.
      request.resume();
      request.on('end', () => answer(response, s3Error(fault.kind, method, url.pathname)));
      return;
    }
    pass(request, response, undefined, fault?.kind === 'truncate');
  });

  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        agent.destroy();
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
