import { DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { s3 } from './s3Client.js';
import { DependencyError } from '../platform/errors.js';
import { callAws, callAwsUnless } from './errors.js';

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
    body: (key: string): Promise<GetObjectCommandOutput['Body']> => withS3Errors(async () => (await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body),

    /**
     * The object read whole by `read`, or undefined when there is none. `read` runs inside the
     * translation, so a connection lost mid-body is a retryable 503 like any other S3 failure.
     */
    readIfExists: <T>(key: string, read: (body: ObjectBody) => Promise<T>): Promise<T | undefined> =>
      unlessMissing(async () => {
        const { Body } = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return Body ? await read(Body) : undefined;
      }),

    head: (key: string): Promise<{ size: number; eTag?: string } | undefined> =>
      unlessMissing(async () => {
        const out = await s3().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return { size: out.ContentLength ?? 0, eTag: out.ETag };
      }),

    /**
     * Deletes the keys and answers the ones S3 refused: DeleteObjects reports those inside a 200,
     * not as an error. A key that was already gone is not refused (compensations run more than once).
     */
    /** Deletes the keys; a key S3 refuses to delete is an error, since compensations must not believe a failed delete. */
    remove: async (keys: readonly string[]): Promise<void> => {
      if (keys.length === 0) return;
      const out = await withS3Errors(() => s3().send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } })));
      const refused = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (refused.length > 0) throw new DependencyError(`S3 could not delete ${refused.map((e) => `${e.Key} (${e.Code})`).join(', ')}; retry.`);
    },
  };
}
