import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import dynalite from 'dynalite';
import S3rver, { type S3rverEvent } from 's3rver';
import { presignedRequestIsValid } from './presignedUrls.js';

/** An AWS service implementation running in this process. */
export interface EmbeddedService {
  endpoint: string;
  stop(): Promise<void>;
}

/** Stops listening and drops kept-alive SDK sockets, which would otherwise hold close() open. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) return resolve();
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

const endpointOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

/** DynamoDB served by dynalite on a free port: on disk under `dataDir`, or in memory when it is null. */
export async function startDynamoDb(dataDir: string | null): Promise<EmbeddedService> {
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(dataDir ? { path: dataDir } : {}) });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  let stopped: Promise<void> | undefined;
  return { endpoint: endpointOf(server), stop: () => (stopped ??= closeServer(server)) };
}

interface S3rverStore {
  getObject(bucket: string, key: string): Promise<{ content: NodeJS.ReadableStream } | null>;
  listObjects(
    bucket: string,
    options: { prefix?: string; startAfter?: string; maxKeys?: number },
  ): Promise<{ objects: { key: string; size: number; lastModifiedDate: Date; metadata: { etag?: string } }[]; isTruncated: boolean }>;
  putPart(bucket: string, uploadId: string, partNumber: number, content: NodeJS.ReadableStream): Promise<{ md5: string }>;
}

/**
 * UploadPartCopy (a part of a multipart upload copied from another object), which s3rver 3.7
 * lacks: it would store the empty request body as the part. Same request and response as S3;
 * whole-object copies only (no x-amz-copy-source-range), which is all Telltale asks for.
 */
function uploadPartCopy(store: S3rverStore) {
  return async (ctx: { method: string; path: string; query: Record<string, unknown>; headers: Record<string, unknown>; status: number; type: string; body: unknown }, next: () => Promise<void>) => {
    const source = ctx.headers['x-amz-copy-source'];
    if (ctx.method !== 'PUT' || typeof source !== 'string' || typeof ctx.query.uploadId !== 'string' || typeof ctx.query.partNumber !== 'string') return next();
    const bucket = ctx.path.split('/')[1];
    const [sourceBucket, ...sourceKey] = decodeURIComponent(source.replace(/^\//, '')).split('/');
    const object = await store.getObject(sourceBucket, sourceKey.join('/'));
    if (!object) {
      ctx.status = 404;
      ctx.type = 'application/xml';
      ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>${sourceKey.join('/')}</Key></Error>`;
      return;
    }
    const { md5 } = await store.putPart(bucket, ctx.query.uploadId, Number(ctx.query.partNumber), object.content);
    ctx.status = 200;
    ctx.type = 'application/xml';
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<CopyPartResult><LastModified>${new Date().toISOString()}</LastModified><ETag>"${md5}"</ETag></CopyPartResult>`;
  };
}

/**
 * S3's check of presigned URLs, which s3rver skips for SigV4: a request signed in its query is
 * refused (403 SignatureDoesNotMatch) unless the signature holds for the request as it arrived,
 * so an upload whose body is not the size its URL was signed for fails here as on AWS.
 */
function presignedSignatures(secret: string) {
  return async (ctx: { method: string; href: string; headers: Record<string, string | string[] | undefined>; status: number; type: string; body: unknown }, next: () => Promise<void>) => {
    const url = new URL(ctx.href);
    if (url.searchParams.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256' || presignedRequestIsValid({ method: ctx.method, url, headers: ctx.headers }, secret)) return next();
    ctx.status = 403;
    ctx.type = 'application/xml';
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message></Error>`;
  };
}

const xmlText = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * ListObjectVersions, which s3rver 3.7 refuses (405): its store keeps one version per key, so each
 * object is answered as S3 answers an unversioned bucket's, the current version with id "null".
 */
function listObjectVersions(store: S3rverStore) {
  return async (ctx: { method: string; path: string; query: Record<string, unknown>; status: number; type: string; body: unknown }, next: () => Promise<void>) => {
    const bucket = ctx.path.split('/')[1];
    if (ctx.method !== 'GET' || !('versions' in ctx.query) || ctx.path.split('/').filter(Boolean).length !== 1) return next();
    const text = (name: string) => (typeof ctx.query[name] === 'string' ? (ctx.query[name] as string) : undefined);
    const prefix = text('prefix') ?? '';
    const maxKeys = Math.min(Number(text('max-keys') ?? 1000), 1000);
    const { objects, isTruncated } = await store.listObjects(bucket, { prefix, startAfter: text('key-marker') ?? '', maxKeys });
    const versions = objects.map(
      (o) =>
        `<Version><Key>${xmlText(o.key)}</Key><VersionId>null</VersionId><IsLatest>true</IsLatest><LastModified>${o.lastModifiedDate.toISOString()}</LastModified><ETag>${xmlText(o.metadata.etag ?? '')}</ETag><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Version>`,
    );
    const last = objects.at(-1)?.key;
    ctx.status = 200;
    ctx.type = 'application/xml';
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xmlText(bucket)}</Name><Prefix>${xmlText(prefix)}</Prefix><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${isTruncated}</IsTruncated>${
      isTruncated && last ? `<NextKeyMarker>${xmlText(last)}</NextKeyMarker><NextVersionIdMarker>null</NextVersionIdMarker>` : ''
    }${versions.join('')}</ListVersionsResult>`;
  };
}

/**
 * S3 served by s3rver on a free port: objects under `dataDir`, or under a temporary folder that
 * is removed on stop when it is null. `onEvent` receives s3rver's S3 notification records.
 */
export async function startS3(dataDir: string | null, onEvent: (event: S3rverEvent) => void): Promise<EmbeddedService> {
  const directory = dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'telltale-s3-')));
  await mkdir(directory, { recursive: true });
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  server.on('event', onEvent);
  // s3rver's own key pair (S3RVER / S3RVER) signs the local cloud's presigned URLs.
  server.middleware.unshift(presignedSignatures('S3RVER'), uploadPartCopy(server.store), listObjectVersions(server.store));
  const address = await server.run();
  let stopped: Promise<void> | undefined;
  const stop = async () => {
    if (server.httpServer) await closeServer(server.httpServer);
    if (!dataDir) await rm(directory, { recursive: true, force: true });
  };
  return { endpoint: `http://127.0.0.1:${address.port}`, stop: () => (stopped ??= stop()) };
}
