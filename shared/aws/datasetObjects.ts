import { DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import type { DatasetObjects } from '../data/registry/datasetRepository.js';
import { boundName } from '../platform/config.js';
import { buckets } from '../platform/resources.js';
import { s3 } from './clients.js';
import { translateAwsError } from './errors.js';

const isMissing = (error: unknown) => ['NoSuchKey', 'NotFound'].includes((error as { name?: string }).name ?? '');

/** Dataset objects in the datasets bucket, read and written as streams. */
export function s3DatasetObjects(bucket = boundName('BUCKET', buckets.datasets.name)): DatasetObjects {
  return {
    async presignUpload(key, expiresIn) {
      const url = await getSignedUrl(s3(), new PutObjectCommand({ Bucket: bucket, Key: key }), { expiresIn });
      return { url, headers: {} };
    },

    async put(key, body, contentType) {
      try {
        await s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
      } catch (error) {
        throw translateAwsError('S3', error);
      }
    },

    async read(key) {
      try {
        const { Body } = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return Body as Readable;
      } catch (error) {
        throw translateAwsError('S3', error);
      }
    },

    async write(key, contentType, body) {
      try {
        // Multipart upload in 8 MiB parts, two at a time: memory stays bounded for any size.
        await new Upload({ client: s3(), params: { Bucket: bucket, Key: key, Body: Readable.from(body), ContentType: contentType }, partSize: 8 * 1024 * 1024, queueSize: 2 }).done();
      } catch (error) {
        throw translateAwsError('S3', error);
      }
    },

    async getText(key) {
      try {
        const { Body } = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return Body ? await Body.transformToString('utf8') : undefined;
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw translateAwsError('S3', error);
      }
    },

    async head(key) {
      try {
        const out = await s3().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return { size: out.ContentLength ?? 0, eTag: out.ETag };
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw translateAwsError('S3', error);
      }
    },

    async remove(keys) {
      if (keys.length === 0) return;
      try {
        await s3().send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }));
      } catch (error) {
        throw translateAwsError('S3', error);
      }
    },
  };
}
