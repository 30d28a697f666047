import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dynamoDatasetRepository } from '../../shared/aws/datasetRepository.js';
import { expectProblem, useLocalCloud } from './localCloudFixture.js';

const local = useLocalCloud();
const skab = readFileSync(new URL('../fixtures/data/skab-valve1-0.csv', import.meta.url), 'utf8');
const skabBytes = Buffer.byteLength(skab);

const s3 = () => new S3Client({ region: 'us-east-1', endpoint: local.cloud.endpoints.s3, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
async function objectKeys(prefix: string): Promise<string[]> {
  const out = await s3().send(new ListObjectsV2Command({ Bucket: local.cloud.names.bucket('datasets'), Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}
const runsOf = (datasetId: string) =>
  local.cloud.stateMachines.executions('datasetPipeline').filter((e) => (JSON.parse(e.input) as { datasetId: string }).datasetId === datasetId).length;

interface Upload {
  url: string;
  method: string;
  sizeBytes: number;
  headers: Record<string, string>;
  expiresAt: string;
}

describe('upload URLs', () => {
  it('are signed for the declared size, with no checksum, and a fresh one can be asked for later', async () => {
    const call = await local.client('up-a');
    const created = await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'later', name: 'later', fileName: 'valve.csv' }) });
    expect(created.status).toBe(201);
    expect((await created.json()) as object).not.toHaveProperty('upload');

    const asked = await call('/datasets/later/upload', { method: 'POST', body: JSON.stringify({ sizeBytes: skabBytes }) });
    expect(asked.status).toBe(200);
    const { upload, rawKey } = (await asked.json()) as { upload: Upload; rawKey: string };
    expect(rawKey).toBe('datasets/up-a/later/raw/valve.csv');
    expect(upload).toMatchObject({ method: 'PUT', sizeBytes: skabBytes, headers: { 'content-length': String(skabBytes) } });
    const url = new URL(upload.url);
    expect(url.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toContain('content-length');
    expect([...url.searchParams.keys()].filter((k) => k.toLowerCase().includes('checksum'))).toEqual([]);

    // A body of another size than declared is refused, as S3 refuses it (the length is signed).
    const larger = await fetch(upload.url, { method: 'PUT', body: `${skab}2026-01-01 00:00:00;1;1;1;1;1;1;1;1;0;0\n` });
    expect(larger.status).toBe(403);
    expect(await larger.text()).toContain('SignatureDoesNotMatch');
    expect((await fetch(upload.url, { method: 'PUT', body: skab.slice(0, 1000) })).status).toBe(403);
    expect(await objectKeys('datasets/up-a/later/')).toEqual([]);

    expect((await fetch(upload.url, { method: 'PUT', body: skab, headers: upload.headers })).status).toBe(200);
    expect(await local.settled(call, '/datasets/later')).toMatchObject({ status: 'READY', rows: { raw: 1147 } });
  });

  it('POST /datasets with sizeBytes answers the URL at once; a size over the limit is a 413, a missing size a 400', async () => {
    const call = await local.client('up-b');
    const created = await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'now', name: 'now', sizeBytes: 1234 }) });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { upload: Upload }).upload).toMatchObject({ sizeBytes: 1234, method: 'PUT' });

    const tooLarge = 6 * 1024 ** 3;
    expect(await expectProblem(await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'huge', name: 'huge', sizeBytes: tooLarge }) }), 413)).toMatchObject({ maxBytes: 5 * 1024 ** 3 });
    await expectProblem(await call('/datasets/huge'), 404);
    await expectProblem(await call('/datasets/now/upload', { method: 'POST', body: JSON.stringify({ sizeBytes: tooLarge }) }), 413);
    await expectProblem(await call('/datasets/now/upload', { method: 'POST', body: JSON.stringify({}) }), 400);
    await expectProblem(await call('/datasets/now/upload', { method: 'POST', body: JSON.stringify({ sizeBytes: -1 }) }), 400);
  });

  it('are 404 for an unknown dataset or another tenant\'s, and 409 while a run works on the file', async () => {
    const call = await local.client('up-c');
    const other = await local.client('up-c-other');
    await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'mine', name: 'mine' }) });
    await expectProblem(await call('/datasets/nope/upload', { method: 'POST', body: JSON.stringify({ sizeBytes: 10 }) }), 404);
    await expectProblem(await other('/datasets/mine/upload', { method: 'POST', body: JSON.stringify({ sizeBytes: 10 }) }), 404);

    await dynamoDatasetRepository(local.cloud.names.table('datasets')).update('up-c', 'mine', { status: 'VALIDATING' });
    expect(await expectProblem(await call('/datasets/mine/upload', { method: 'POST', body: JSON.stringify({ sizeBytes: 10 }) }), 409)).toMatchObject({ datasetStatus: 'VALIDATING' });
    const readOnly = await local.client('up-c', ['telltale/read']);
    await expectProblem(await readOnly('/datasets/mine/upload', { method: 'POST', body: JSON.stringify({ sizeBytes: 10 }) }), 403);
  });
});

describe('DELETE /datasets/{id}', () => {
  it('removes every object of the dataset and its scratch space, then the record; a second DELETE is a 404', async () => {
    const call = await local.client('del-a');
    await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'gone', name: 'gone', fileName: 'v.csv', content: skab }) });
    await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'gone-not', name: 'neighbour', fileName: 'v.csv', content: 'timestamp,x\n2026-01-01T00:00:00Z,1\n' }) });
    expect(await local.settled(call, '/datasets/gone')).toMatchObject({ status: 'READY' });
    await local.settled(call, '/datasets/gone-not');
    // What a run stopped by hand leaves in its scratch space.
    await s3().send(new PutObjectCommand({ Bucket: local.cloud.names.bucket('datasets'), Key: 'work/del-a/gone/run-1/chunk-00000.csv', Body: 'x' }));
    expect((await objectKeys('datasets/del-a/gone/')).length).toBeGreaterThan(1);

    const other = await local.client('del-b');
    await expectProblem(await other('/datasets/gone', { method: 'DELETE' }), 404);
    const deleted = await call('/datasets/gone', { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');

    expect(await objectKeys('datasets/del-a/gone/')).toEqual([]);
    expect(await objectKeys('work/del-a/gone/')).toEqual([]);
    await expectProblem(await call('/datasets/gone'), 404);
    await expectProblem(await call('/datasets/gone', { method: 'DELETE' }), 404);
    // The neighbour whose id starts alike is untouched.
    expect(await objectKeys('datasets/del-a/gone-not/')).toContain('datasets/del-a/gone-not/raw/v.csv');
    expect((await call('/datasets/gone-not')).status).toBe(200);
    // The id is free again.
    expect((await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'gone', name: 'again' }) })).status).toBe(201);
  });

  it('deletes a dataset stuck in a run, and needs the data scope', async () => {
    const call = await local.client('del-c');
    await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'stuck', name: 'stuck' }) });
    await dynamoDatasetRepository(local.cloud.names.table('datasets')).update('del-c', 'stuck', { status: 'VALIDATING' });
    const readOnly = await local.client('del-c', ['telltale/read']);
    await expectProblem(await readOnly('/datasets/stuck', { method: 'DELETE' }), 403);
    expect((await call('/datasets/stuck', { method: 'DELETE' })).status).toBe(204);
    await expectProblem(await call('/datasets/stuck'), 404);
  });
});

describe('an inline register retried', () => {
  const body = { id: 'again', name: 'again', fileName: 'v.csv', content: skab };

  it('with the same body answers the dataset again (no second run), and writes the file when the first attempt did not', async () => {
    const call = await local.client('retry-a');
    const first = await call('/datasets', { method: 'POST', body: JSON.stringify(body) });
    expect(first.status).toBe(201);
    const firstBody = (await first.json()) as { createdAt: string };
    await local.settled(call, '/datasets/again');
    expect(runsOf('again')).toBe(1);

    const retried = await call('/datasets', { method: 'POST', body: JSON.stringify({ ...body }) });
    expect(retried.status).toBe(200);
    expect(await retried.json()).toMatchObject({ id: 'again', createdAt: firstBody.createdAt });
    await local.cloud.drain(5000);
    expect(runsOf('again')).toBe(1);

    // The state a 503 on the first attempt's PUT leaves: the record, no file.
    await call('/datasets', { method: 'POST', body: JSON.stringify({ ...body, id: 'lost' }) });
    await local.settled(call, '/datasets/lost');
    await s3().send(new DeleteObjectCommand({ Bucket: local.cloud.names.bucket('datasets'), Key: 'datasets/retry-a/lost/raw/v.csv' }));
    const completed = await call('/datasets', { method: 'POST', body: JSON.stringify({ ...body, id: 'lost' }) });
    expect(completed.status).toBe(200);
    expect(await objectKeys('datasets/retry-a/lost/raw/')).toEqual(['datasets/retry-a/lost/raw/v.csv']);
  });

  it('with another body is still a 409', async () => {
    const call = await local.client('retry-b');
    expect((await call('/datasets', { method: 'POST', body: JSON.stringify(body) })).status).toBe(201);
    await expectProblem(await call('/datasets', { method: 'POST', body: JSON.stringify({ ...body, content: `${skab}\n` }) }), 409);
    await expectProblem(await call('/datasets', { method: 'POST', body: JSON.stringify({ ...body, name: 'other' }) }), 409);
    await expectProblem(await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'again', name: 'again', fileName: 'v.csv' }) }), 409);
  });
});
