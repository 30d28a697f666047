import { DeleteObjectsCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { presignedRequestIsValid } from '../../../local/presignedUrls.js';
import { s3DatasetObjects } from '../../../shared/aws/datasetObjects.js';

const secret = 'test-secret-key';
beforeAll(() => {
  Object.assign(process.env, { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: secret });
});

/** What S3 does with a PUT to the presigned URL that arrives with `headers` (the local cloud's S3 checks the same way). */
const s3Accepts = (url: string, headers: Record<string, string>) => presignedRequestIsValid({ method: 'PUT', url: new URL(url), headers: { host: new URL(url).host, ...headers } }, secret);

describe('dataset upload URLs', () => {
  it('sign the declared Content-Length, so S3 refuses a larger or smaller body, and carry no checksum', async () => {
    const { url, headers } = await s3DatasetObjects('bucket-a').presignUpload('datasets/acme/d1/raw/a.csv', 900, 1234);

    const params = new URL(url).searchParams;
    expect(params.get('X-Amz-SignedHeaders')!.split(';')).toContain('content-length');
    expect([...params.keys()].filter((k) => /checksum/i.test(k))).toEqual([]);
    expect(headers).toEqual({ 'content-length': '1234' });
    expect(s3Accepts(url, { 'content-length': '1234' })).toBe(true);
    expect(s3Accepts(url, { 'content-length': '1235' })).toBe(false);
    expect(s3Accepts(url, { 'content-length': String(5 * 1024 ** 3) })).toBe(false);
    // Expired: 15 minutes after signing.
    expect(presignedRequestIsValid({ method: 'PUT', url: new URL(url), headers: { host: new URL(url).host, 'content-length': '1234' } }, secret, Date.now() + 901_000)).toBe(false);
  });
});

describe('purging a dataset prefix', () => {
  const s3 = mockClient(S3Client);
  afterEach(() => s3.reset());

  it('deletes every version and delete marker by version id, across pages, not just the current keys', async () => {
    s3.on(ListObjectVersionsCommand)
      .resolvesOnce({
        IsTruncated: true,
        NextKeyMarker: 'datasets/acme/d1/raw/a.csv',
        NextVersionIdMarker: 'v1',
        Versions: [
          { Key: 'datasets/acme/d1/raw/a.csv', VersionId: 'v2' },
          { Key: 'datasets/acme/d1/raw/a.csv', VersionId: 'v1' },
        ],
        DeleteMarkers: [{ Key: 'datasets/acme/d1/reports/quality.json', VersionId: 'm1' }],
      })
      .resolvesOnce({ IsTruncated: false, Versions: [{ Key: 'datasets/acme/d1/processed/data.csv', VersionId: 'v9' }] });
    s3.on(DeleteObjectsCommand).resolves({});

    await s3DatasetObjects('bucket-a').purgePrefix('datasets/acme/d1/');

    const lists = s3.commandCalls(ListObjectVersionsCommand).map((c) => c.args[0].input);
    expect(lists).toEqual([
      { Bucket: 'bucket-a', Prefix: 'datasets/acme/d1/' },
      { Bucket: 'bucket-a', Prefix: 'datasets/acme/d1/', KeyMarker: 'datasets/acme/d1/raw/a.csv', VersionIdMarker: 'v1' },
    ]);
    const deleted = s3.commandCalls(DeleteObjectsCommand).flatMap((c) => c.args[0].input.Delete!.Objects!);
    expect(deleted).toEqual([
      { Key: 'datasets/acme/d1/raw/a.csv', VersionId: 'v2' },
      { Key: 'datasets/acme/d1/raw/a.csv', VersionId: 'v1' },
      { Key: 'datasets/acme/d1/reports/quality.json', VersionId: 'm1' },
      { Key: 'datasets/acme/d1/processed/data.csv', VersionId: 'v9' },
    ]);
  });
});
