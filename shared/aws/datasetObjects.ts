import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import type { DatasetObjects } from '../data/registry/datasetRepository.js';
import { boundName } from '../platform/config.js';
import { buckets } from '../platform/resources.js';
import { s3 } from './s3Client.js';
import { bucketObjects, canConcatInPlace, withS3Errors } from './objects.js';

/** Dataset objects in the datasets bucket, read and written as streams. */
export function s3DatasetObjects(bucket = boundName('BUCKET', buckets.datasets.name)): DatasetObjects {
  const objects = bucketObjects(bucket);
  const write = (key: string, contentType: string, body: AsyncIterable<Uint8Array | string>) =>
    withS3Errors(async () => {
      // Multipart upload in 8 MiB parts, two at a time: memory stays bounded for any size.
      await new Upload({ client: s3(), params: { Bucket: bucket, Key: key, Body: Readable.from(body), ContentType: contentType }, partSize: 8 * 1024 * 1024, queueSize: 2 }).done();
    });
  return {
    presignUpload: objects.presignPut,

    put: objects.put,

    read: objects.stream,

    write,

    getText: (key) => objects.readIfExists(key, (body) => body.transformToString('utf8')),

    head: objects.head,

    readRange: objects.range,

    async concat(target, sources, contentType) {
      const sizes: number[] = [];
      for (let i = 0; i < sources.length; i += 16) sizes.push(...(await Promise.all(sources.slice(i, i + 16).map(async (key) => (await objects.head(key))?.size ?? 0))));
      if (sources.length > 0 && canConcatInPlace(sizes)) return objects.concatInPlace(target, sources, contentType);
      // Parts under S3's 5 MiB minimum cannot be copied as parts: stream them through, one after the other.
      const read = objects.body;
      await write(target, contentType, (async function* () {
        for (const key of sources) yield* (await read(key)) as Readable;
      })());
    },

    async remove(keys) {
      await objects.remove(keys);
    },

    async removePrefix(prefix) {
      for await (const keys of objects.keys(prefix)) await objects.remove(keys);
    },

    async purgePrefix(prefix) {
      for await (const versions of objects.versions(prefix)) await objects.remove(versions);
    },
  };
}
