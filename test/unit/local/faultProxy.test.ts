import { ConditionalCheckFailedException, CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { s3DatasetObjects } from '../../../shared/aws/datasetObjects.js';
import { translateAwsError } from '../../../shared/aws/errors.js';
import { DependencyError } from '../../../shared/platform/errors.js';
import { s3Operation, startFaultProxy, type FaultProxy } from '../../../local/faultProxy.js';
import { FaultPlan } from '../../../local/faults.js';
import { startDynamoDb, startS3, type EmbeddedService } from '../../../local/storage.js';

const region = 'us-east-1';
const plan = new FaultPlan();
let services: (EmbeddedService | FaultProxy)[] = [];
let dynamoDb: DynamoDBClient;
let s3: S3Client;

type SdkError = Error & { $metadata?: { httpStatusCode?: number; attempts?: number } };
/** Where a call ended: its value, or the error the SDK threw after its retries. */
const outcome = <T>(promise: Promise<T>): Promise<{ value?: T; error?: SdkError }> => promise.then((value) => ({ value }), (error: unknown) => ({ error: error as SdkError }));

beforeAll(async () => {
  const [dynalite, s3rver] = await Promise.all([startDynamoDb(null), startS3(null, () => undefined)]);
  const [dynamoDbProxy, s3Proxy] = await Promise.all([startFaultProxy('dynamodb', dynalite.endpoint, plan), startFaultProxy('s3', s3rver.endpoint, plan)]);
  services = [dynamoDbProxy, s3Proxy, dynalite, s3rver];
  // The SDK's standard retries (3 attempts) with short waits, so a test sees retries without sleeping long.
  const retry = { maxAttempts: 3, retryMode: 'standard' as const };
  dynamoDb = new DynamoDBClient({ region, endpoint: dynamoDbProxy.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, ...retry });
  // Our adapters' S3 client reads these once, on first use.
  Object.assign(process.env, { AWS_ENDPOINT_URL_S3: s3Proxy.endpoint, S3_FORCE_PATH_STYLE: 'true', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
  s3 = new S3Client({ region, endpoint: s3Proxy.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, ...retry });
  await dynamoDb.send(new CreateTableCommand({ TableName: 'items', BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] }));
  await s3.send(new CreateBucketCommand({ Bucket: 'objects' }));
  await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'a/data.csv', Body: 'x'.repeat(64 * 1024) }));
});
afterAll(async () => {
  dynamoDb?.destroy();
  s3?.destroy();
  for (const service of services) await service.stop();
});
beforeEach(() => void plan.clear());

describe('fault proxy: DynamoDB', () => {
  it('throttles with ProvisionedThroughputExceededException; the SDK retries and the write lands', async () => {
    plan.set('dynamodb:PutItem=throttle#1+2');
    const put = await dynamoDb.send(new PutItemCommand({ TableName: 'items', Item: { pk: { S: 'throttled' } } }));
    expect(put.$metadata.attempts).toBe(3);
    expect(plan.injected('dynamodb')).toHaveLength(2);
    expect((await dynamoDb.send(new GetItemCommand({ TableName: 'items', Key: { pk: { S: 'throttled' } } }))).Item).toBeDefined();
  });

  it.each([
    ['throttle', 'ProvisionedThroughputExceededException'],
    ['throttling', 'ThrottlingException'],
  ])('a write throttled on every attempt (%s) fails with %s, which our adapters map to DependencyError', async (kind, name) => {
    plan.set(`dynamodb:PutItem=${kind}`);
    const { error } = await outcome(dynamoDb.send(new PutItemCommand({ TableName: 'items', Item: { pk: { S: `never-${kind}` } } })));
    expect(error?.name).toBe(name);
    expect(error?.$metadata).toMatchObject({ httpStatusCode: 400, attempts: 3 });
    expect(translateAwsError('DynamoDB', error)).toBeInstanceOf(DependencyError);
    plan.clear();
    expect((await dynamoDb.send(new GetItemCommand({ TableName: 'items', Key: { pk: { S: `never-${kind}` } } }))).Item).toBeUndefined();
  });

  it('fails conditional writes only with ConditionalCheckFailedException, without writing', async () => {
    plan.set('dynamodb:PutItem=conditional');
    const conditional = await outcome(dynamoDb.send(new PutItemCommand({ TableName: 'items', Item: { pk: { S: 'raced' } }, ConditionExpression: 'attribute_not_exists(pk)' })));
    expect(conditional.error).toBeInstanceOf(ConditionalCheckFailedException);
    expect(conditional.error?.$metadata?.attempts).toBe(1);
    await dynamoDb.send(new PutItemCommand({ TableName: 'items', Item: { pk: { S: 'unconditional' } } }));
    plan.clear();
    expect((await dynamoDb.send(new GetItemCommand({ TableName: 'items', Key: { pk: { S: 'raced' } } }))).Item).toBeUndefined();
    expect((await dynamoDb.send(new GetItemCommand({ TableName: 'items', Key: { pk: { S: 'unconditional' } } }))).Item).toBeDefined();
  });
});

describe('fault proxy: S3', () => {
  it('answers InternalError (500) with S3 error XML; the SDK retries and the read succeeds', async () => {
    plan.set('s3:GetObject=500#1');
    const got = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'a/data.csv' }));
    expect(got.$metadata.attempts).toBe(2);
    expect((await got.Body!.transformToString()).length).toBe(64 * 1024);
  });

  it('answers SlowDown (503) on every attempt: the SDK gives up with SlowDown, our adapters say DependencyError', async () => {
    plan.set('s3:GetObject=503');
    const { error } = await outcome(s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'a/data.csv' })));
    expect(error?.name).toBe('SlowDown');
    expect(error?.$metadata).toMatchObject({ httpStatusCode: 503, attempts: 3 });
    expect(translateAwsError('S3', error)).toBeInstanceOf(DependencyError);
  });

  it('fails a HEAD with a bodiless 500, and a PUT only after reading its body (the SDK resends it)', async () => {
    plan.set('s3:HeadObject=500,s3:PutObject=500#1');
    const head = await outcome(s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'a/data.csv' })));
    expect(head.error?.$metadata?.httpStatusCode).toBe(500);
    const put = await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'a/put.txt', Body: 'hello' }));
    expect(put.$metadata.attempts).toBe(2);
    plan.clear();
    expect(await (await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'a/put.txt' }))).Body!.transformToString()).toBe('hello');
  });

  it('cuts a body short: the headers promise every byte and the reader sees a premature close', async () => {
    plan.set('s3:GetObject=truncate#1');
    const got = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'a/data.csv' }));
    expect(got.ContentLength).toBe(64 * 1024);
    await expect(got.Body!.transformToString()).rejects.toThrow();
    const again = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'a/data.csv' }));
    expect((await again.Body!.transformToString()).length).toBe(64 * 1024);
  });

  it('makes our dataset reader fail a truncated body with a retryable DependencyError, not a bare "aborted"', async () => {
    plan.set('s3:GetObject=truncate#1');
    const read = async () => {
      let bytes = 0;
      for await (const chunk of await s3DatasetObjects('objects').read('a/data.csv')) bytes += (chunk as Buffer).length;
      return bytes;
    };
    await expect(read()).rejects.toBeInstanceOf(DependencyError);
    expect(await read()).toBe(64 * 1024);
  });

  it('names path-style requests by their S3 action', () => {
    const op = (method: string, path: string, headers: Record<string, string> = {}) => s3Operation(method, new URL(path, 'http://h'), headers);
    expect(op('GET', '/b/k/x.csv')).toBe('GetObject');
    expect(op('HEAD', '/b/k')).toBe('HeadObject');
    expect(op('PUT', '/b/k')).toBe('PutObject');
    expect(op('PUT', '/b/k', { 'x-amz-copy-source': '/b/o' })).toBe('CopyObject');
    expect(op('PUT', '/b/k?partNumber=1&uploadId=u')).toBe('UploadPart');
    expect(op('PUT', '/b/k?partNumber=1&uploadId=u', { 'x-amz-copy-source': '/b/o' })).toBe('UploadPartCopy');
    expect(op('POST', '/b/k?uploads')).toBe('CreateMultipartUpload');
    expect(op('POST', '/b/k?uploadId=u')).toBe('CompleteMultipartUpload');
    expect(op('DELETE', '/b/k')).toBe('DeleteObject');
    expect(op('POST', '/b?delete')).toBe('DeleteObjects');
    expect(op('GET', '/b?list-type=2&prefix=a')).toBe('ListObjectsV2');
    expect(op('HEAD', '/b')).toBe('HeadBucket');
  });
});
