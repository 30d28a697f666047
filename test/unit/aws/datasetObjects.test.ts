import { DeleteObjectsCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { createHash, createHmac } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { s3DatasetObjects } from '../../../shared/aws/datasetObjects.js';

const secret = 'test-secret-key';
beforeAll(() => {
  Object.assign(process.env, { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: secret });
});

const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const hmac = (key: string | Buffer, s: string) => createHmac('sha256', key).update(s).digest();

/**
 * What S3 does with a presigned PUT that arrives with `headers`: recompute the SigV4 query
 * signature over the request as received (signed headers taken from the request) and compare.
 */
function s3Accepts(presigned: string, headers: Record<string, string>): boolean {
  const url = new URL(presigned);
  const q = url.searchParams;
  const signedHeaders = q.get('X-Amz-SignedHeaders')!.split(';');
  const all: Record<string, string> = { host: url.host, ...headers };
  const query = [...q.entries()].filter(([k]) => k !== 'X-Amz-Signature').map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`).sort().join('&');
  const canonical = ['PUT', url.pathname, query, ...signedHeaders.map((h) => `${h}:${(all[h] ?? '').trim()}`), '', signedHeaders.join(';'), 'UNSIGNED-PAYLOAD'].join('\n');
  const [, date, region, service] = q.get('X-Amz-Credential')!.split('/');
  const toSign = ['AWS4-HMAC-SHA256', q.get('X-Amz-Date')!, `${date}/${region}/${service}/aws4_request`, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  return hmac(key, toSign).toString('hex') === q.get('X-Amz-Signature');
}

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
