import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCopyCommand,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import { s3, s3Presigner } from './s3Client.js';
import { DependencyError } from '../platform/errors.js';
import { callAws, callAwsUnless, translateAwsError } from './errors.js';

export type ObjectBody = NonNullable<GetObjectCommandOutput['Body']>;

const isMissing = (error: unknown) => ['NoSuchKey', 'NotFound'].includes((error as { name?: string }).name ?? '');

/** One S3 call with its failure translated (throttling and outages become a retryable 503). */
export const withS3Errors = <T>(send: () => Promise<T>) => callAws('S3', send);

/** A read where a missing object answers undefined: callers treat "not there" as a normal answer. */
const unlessMissing = <T>(send: () => Promise<T>) => callAwsUnless('S3', send, isMissing, undefined);

/** The object operations our S3 adapters share, on one bucket. */
export function bucketObjects(bucket: string) {
  return {
    put: (key: string, body: string | Uint8Array, contentType: string): Promise<void> =>
      withS3Errors(async () => {
        await s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
      }),

    /** The object's body, or a translated error (a missing object included). */
    body: (key: string, versionId?: string): Promise<GetObjectCommandOutput['Body']> =>
      withS3Errors(async () => (await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }))).Body),

    /**
     * The object's body as a byte stream read by the caller, long after the GET answered: a
     * connection lost mid-body is translated there too (a retryable 503), not a bare "aborted".
     */
    stream: async (key: string, versionId?: string): Promise<Readable> => {
      const body = (await withS3Errors(async () => (await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }))).Body)) as Readable | undefined;
      if (!body) return Readable.from([]);
      return Readable.from(
        (async function* () {
          try {
            yield* body;
          } catch (error) {
            throw translateAwsError('S3', error);
          }
        })(),
        { objectMode: false },
      );
    },

    /**
     * The object read whole by `read`, or undefined when there is none. `read` runs inside the
     * translation, so a connection lost mid-body is a retryable 503 like any other S3 failure.
     */
    readIfExists: <T>(key: string, read: (body: ObjectBody) => Promise<T>): Promise<T | undefined> =>
      unlessMissing(async () => {
        const { Body } = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return Body ? await read(Body) : undefined;
      }),

    /** `versionId` pins a version; S3 answers the version it read (none from a store without versioning). */
    head: (key: string, versionId?: string): Promise<{ size: number; eTag?: string; versionId?: string } | undefined> =>
      unlessMissing(async () => {
        const out = await s3().send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
        return { size: out.ContentLength ?? 0, eTag: out.ETag, ...(out.VersionId ? { versionId: out.VersionId } : {}) };
      }),

    /** Bytes [start, end) of the object (a ranged GET); fewer at the end of the object. */
    range: (key: string, start: number, end: number, versionId?: string): Promise<Uint8Array> =>
      withS3Errors(async () => {
        if (end <= start) return new Uint8Array(0);
        const { Body } = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId, Range: `bytes=${start}-${end - 1}` }));
        return Body ? await Body.transformToByteArray() : new Uint8Array(0);
      }),

    /** Every key under the prefix, a page at a time. */
    async *keys(prefix: string): AsyncGenerator<string[]> {
      let token: string | undefined;
      do {
        const page = await withS3Errors(() => s3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token })));
        const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : []));
        if (keys.length > 0) yield keys;
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },

    /**
     * A URL that PUTs exactly `sizeBytes` bytes to `key`: the Content-Length is a signed header, so
     * S3 refuses a body of any other size (and the URL's reuse can never store more), and no
     * checksum is signed (see s3Presigner).
     */
    presignPut: async (key: string, expiresIn: number, sizeBytes: number): Promise<{ url: string; headers: Record<string, string> }> => {
      const url = await getSignedUrl(s3Presigner(), new PutObjectCommand({ Bucket: bucket, Key: key, ContentLength: sizeBytes }), { expiresIn });
      return { url, headers: { 'content-length': String(sizeBytes) } };
    },

    /**
     * Every version and delete marker under the prefix, a page at a time. Deleting these (with
     * their version ids) removes the objects for good; deleting keys only adds delete markers.
     */
    async *versions(prefix: string): AsyncGenerator<{ Key: string; VersionId?: string }[]> {
      let keyMarker: string | undefined;
      let versionIdMarker: string | undefined;
      do {
        const page = await withS3Errors(() => s3().send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker })));
        const found = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].flatMap((v) => (v.Key ? [{ Key: v.Key, ...(v.VersionId ? { VersionId: v.VersionId } : {}) }] : []));
        if (found.length > 0) yield found;
        [keyMarker, versionIdMarker] = page.IsTruncated ? [page.NextKeyMarker, page.NextVersionIdMarker] : [undefined, undefined];
      } while (keyMarker);
    },

    /**
     * Deletes the keys. DeleteObjects reports refusals inside a 200; a key that was already gone is
     * not refused (compensations run more than once), any other refusal is an error, since
     * compensations must not believe a failed delete.
     */
    remove: async (keys: readonly (string | { Key: string; VersionId?: string })[]): Promise<void> => {
      for (let i = 0; i < keys.length; i += 1000) {
        const batch = keys.slice(i, i + 1000).map((k) => (typeof k === 'string' ? { Key: k } : k));
        const out = await withS3Errors(() => s3().send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: true } })));
        const refused = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
        if (refused.length > 0) throw new DependencyError(`S3 could not delete ${refused.map((e) => `${e.Key} (${e.Code})`).join(', ')}; retry.`);
      }
    },

    /**
     * Joins objects, in order, into one, inside S3: a multipart upload whose parts are copies
     * (UploadPartCopy), so no byte passes through the function. S3 wants every part but the
     * last to be at least 5 MiB; callers check (`canConcatInPlace`) and stream smaller ones.
     */
    concatInPlace: async (target: string, sources: readonly string[], contentType: string): Promise<void> => {
      const { UploadId } = await withS3Errors(() => s3().send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: target, ContentType: contentType })));
      try {
        const parts: { ETag: string; PartNumber: number }[] = [];
        for (const [i, source] of sources.entries()) {
          const out = await withS3Errors(() =>
            s3().send(new UploadPartCopyCommand({ Bucket: bucket, Key: target, UploadId, PartNumber: i + 1, CopySource: `${bucket}/${source.split('/').map(encodeURIComponent).join('/')}` })),
          );
          parts.push({ ETag: out.CopyPartResult?.ETag ?? '', PartNumber: i + 1 });
        }
        await withS3Errors(() => s3().send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: target, UploadId, MultipartUpload: { Parts: parts } })));
      } catch (error) {
        await s3()
          .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: target, UploadId }))
          .catch(() => undefined);
        throw error;
      }
    },
  };
}

/** S3's smallest part of a multipart upload (all parts but the last). */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const canConcatInPlace = (sizes: readonly number[]): boolean => sizes.length <= 10_000 && sizes.slice(0, -1).every((s) => s >= MIN_PART_BYTES);
