import { CopyObjectCommand, DeleteObjectsCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { ModelArtifacts } from '../ml/registry/modelRepository.js';
import { boundName } from '../platform/config.js';
import { DependencyError } from '../platform/errors.js';
import { buckets } from '../platform/resources.js';
import { s3 } from './clients.js';
import { translateAwsError } from './errors.js';

const isMissing = (error: unknown) => ['NoSuchKey', 'NotFound'].includes((error as { name?: string }).name ?? '');

/** Model versions in the models bucket: ONNX files and their manifests (a few MB at most, read whole). */
export function s3ModelArtifacts(bucket = boundName('BUCKET', buckets.models.name)): ModelArtifacts {
  return {
    async put(key, body, contentType) {
      try {
        await s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
      } catch (error) {
        throw translateAwsError('S3', error);
      }
    },

    async getBytes(key) {
      try {
        const { Body } = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return Body ? await Body.transformToByteArray() : undefined;
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw translateAwsError('S3', error);
      }
    },

    async copy(fromKey, toKey) {
      try {
        await s3().send(new CopyObjectCommand({ Bucket: bucket, Key: toKey, CopySource: `${bucket}/${fromKey.split('/').map(encodeURIComponent).join('/')}` }));
      } catch (error) {
        throw translateAwsError('S3', error);
      }
    },

    async remove(keys) {
      if (keys.length === 0) return;
      try {
        const out = await s3().send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }));
        // DeleteObjects answers 200 with per-key errors: a compensation must not believe a failed delete.
        const failed = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
        if (failed.length > 0) throw new DependencyError(`S3 could not delete ${failed.map((e) => `${e.Key} (${e.Code})`).join(', ')}; retry.`);
      } catch (error) {
        throw translateAwsError('S3', error);
      }
    },
  };
}
