import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import type { DatasetObjects } from '../data/registry/datasetRepository.js';
import { boundName } from '../platform/config.js';
import { buckets } from '../platform/resources.js';
import { s3 } from './s3Client.js';
import { bucketObjects, withS3Errors } from './objects.js';

/** Dataset objects in the datasets bucket, read and written as streams. */
export function s3DatasetObjects(bucket = boundName('BUCKET', buckets.datasets.name)): DatasetObjects {
  const objects = bucketObjects(bucket);
  return {
    async presignUpload(key, expiresIn) {
      const url = await getSignedUrl(s3(), new PutObjectCommand({ Bucket: bucket, Key: key }), { expiresIn });
      return { url, headers: {} };
    },

    put: objects.put,

    async read(key) {
      return (await objects.body(key)) as Readable;
    },

    async write(key, contentType, body) {
      await withS3Errors(async () => {
        // Multipart upload in 8 MiB parts, two at a time: memory stays bounded for any size.
        await new Upload({ client: s3(), params: { Bucket: bucket, Key: key, Body: Readable.from(body), ContentType: contentType }, partSize: 8 * 1024 * 1024, queueSize: 2 }).done();
      });
    },

    getText: (key) => objects.readIfExists(key, (body) => body.transformToString('utf8')),

    head: objects.head,

    async remove(keys) {
      await objects.remove(keys);
    },
  };
}
