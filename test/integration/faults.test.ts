import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { EventBridgeEvent } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalFunction } from '../../local/lambdaRuntime.js';
import { useLocalCloud, type ApiCall } from './localCloudFixture.js';

// Faults given (empty for now): DynamoDB and S3 are reached through the fault proxies.
const local = useLocalCloud({ faults: '', faultSeed: 7 });
const skab = readFileSync(new URL('../fixtures/data/skab-valve1-0.csv', import.meta.url), 'utf8');

type Detail = { tenant: string; datasetId: string };
const busEvents: EventBridgeEvent<string, Detail>[] = [];
beforeAll(() => {
  const recorder: LocalFunction = { spec: { name: 'faultTestRecorder', memoryMb: 128, timeoutSeconds: 5 }, handler: async (event: never) => void busEvents.push(event) };
  local.cloud.bus.addRule({ name: 'faultTestRecorder', detailTypes: ['data.processed', 'pipeline.failed'], fn: recorder });
});
afterEach(() => void local.cloud.faults.clear());

const eventsOf = (type: string, datasetId: string) => busEvents.filter((e) => e['detail-type'] === type && e.detail.datasetId === datasetId);

/** Registers a dataset with faults off, then uploads its file through the presigned URL with `faults` on. */
async function uploadUnder(call: ApiCall, id: string, faults: string) {
  const created = await call('/datasets', { method: 'POST', body: JSON.stringify({ id, name: id, fileName: 'data.csv', sizeBytes: Buffer.byteLength(skab) }) });
  expect(created.status).toBe(201);
  const { upload } = (await created.json()) as { upload: { url: string } };
  local.cloud.faults.set(faults);
  expect((await fetch(upload.url, { method: 'PUT', body: skab })).status).toBe(200);
  return local.settled(call, `/datasets/${id}`);
}

async function objectKeys(prefix: string): Promise<string[]> {
  const s3 = new S3Client({ region: 'us-east-1', endpoint: local.cloud.endpoints.s3, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  const out = await s3.send(new ListObjectsV2Command({ Bucket: local.cloud.names.bucket('datasets'), Prefix: prefix }));
  s3.destroy();
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

describe('flows on the local cloud survive the faults AWS has', () => {
  it('takes an upload to READY with 30 % of DynamoDB writes throttled and 10 % of S3 GETs failing', async () => {
    const call = await local.client('faulty-a');
    const writes = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'].map((op) => `dynamodb:${op}=throttle@0.3`);
    // The pipeline reads its file only a few times: `#1` makes sure one read fails, whatever the seed draws.
    const dataset = await uploadUnder(call, 'throttled', [...writes, 's3:GetObject=500#1', 's3:GetObject=500@0.1'].join(','));
    expect(dataset).toMatchObject({ status: 'READY', rows: { raw: 1147, valid: 1147 } });
    // The faults did fire, and the SDK's retries (and the saga's) absorbed them.
    expect(local.cloud.faults.injected('dynamodb').length).toBeGreaterThan(0);
    expect(local.cloud.faults.injected('s3').length).toBeGreaterThan(0);
    expect(eventsOf('data.processed', 'throttled')).toHaveLength(1);
  });

  it('takes an upload to READY when an S3 read of the file ends early (a truncated body)', async () => {
    const call = await local.client('faulty-d');
    const dataset = await uploadUnder(call, 'truncated', 's3:GetObject=truncate#1');
    expect(local.cloud.faults.injected('s3')).toHaveLength(1);
    expect(dataset).toMatchObject({ status: 'READY', rows: { raw: 1147, valid: 1147 } });
  });

  it('retries a publish that EventBridge partly refused, and delivers the event once', async () => {
    const call = await local.client('faulty-b');
    const dataset = await uploadUnder(call, 'published', 'events:PutEvents=partial#1');
    expect(local.cloud.faults.injected('events')).toHaveLength(1);
    expect(dataset).toMatchObject({ status: 'READY' });
    expect(eventsOf('data.processed', 'published')).toHaveLength(1);
  });

  it('compensates a pipeline step whose function crashes once after doing its work, as the saga declares', async () => {
    const call = await local.client('faulty-c');
    const dataset = await uploadUnder(call, 'crashed', 'lambda:validateDatasetStep=crash#1');
    expect(local.cloud.faults.injected('lambda')).toEqual([expect.objectContaining({ operation: 'validateDatasetStep', kind: 'crash' })]);
    // A crash is no DependencyError: the saga does not retry it; it undoes Validate's writes and records the failure.
    expect(dataset).toMatchObject({ status: 'FAILED', failure: { step: 'Validate' } });
    expect(dataset.processedKey).toBeUndefined();
    expect(await objectKeys('datasets/faulty-c/crashed/')).toEqual(['datasets/faulty-c/crashed/raw/data.csv']);
    expect(eventsOf('pipeline.failed', 'crashed')).toHaveLength(1);
    expect(eventsOf('data.processed', 'crashed')).toHaveLength(0);
  });
});
