import { CopyObjectCommand } from '@aws-sdk/client-s3';
import type { ModelArtifacts } from '../ml/registry/modelRepository.js';
import { boundName } from '../platform/config.js';
import { buckets } from '../platform/resources.js';
import { s3 } from './s3Client.js';
import { bucketObjects, withS3Errors } from './objects.js';

/** Model versions in the models bucket: ONNX files and their manifests (a few MB at most, read whole). */
export function s3ModelArtifacts(bucket = boundName('BUCKET', buckets.models.name)): ModelArtifacts {
  const objects = bucketObjects(bucket);
  return {
    put: objects.put,

    getBytes: (key) => objects.readIfExists(key, (body) => body.transformToByteArray()),

    async copy(fromKey, toKey) {
      await withS3Errors(() => s3().send(new CopyObjectCommand({ Bucket: bucket, Key: toKey, CopySource: `${bucket}/${fromKey.split('/').map(encodeURIComponent).join('/')}` })));
    },

    async remove(keys) {
      await objects.remove(keys);
    },
  };
}
