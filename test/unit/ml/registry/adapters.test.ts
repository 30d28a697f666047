import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { CopyObjectCommand, DeleteObjectsCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../../../shared/aws/cursor.js';
import { s3ModelArtifacts } from '../../../../shared/aws/modelArtifacts.js';
import { dynamoModelRepository } from '../../../../shared/aws/modelRepository.js';
import { stepFunctionsStarter } from '../../../../shared/aws/workflowStarter.js';
import type { ModelRecord } from '../../../../shared/ml/registry/model.js';
import { getModel } from '../../../../shared/ml/registry/training.js';
import { ConflictError, DependencyError, NotFoundError, ValidationError } from '../../../../shared/platform/errors.js';

const dynamo = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
const models = dynamoModelRepository('models-table');
const artifacts = s3ModelArtifacts('models-bucket');
const starter = stepFunctionsStarter('arn:aws:states:us-east-1:123456789012:stateMachine:training');

const model: ModelRecord = {
  id: 'pump-model',
  version: 1,
  status: 'TRAINING',
  jobId: 'train-abc',
  detector: 'pca',
  lineage: { datasetId: 'plant-1', processedKey: 'datasets/acme/plant-1/processed/data.csv', columns: {}, parameters: {} },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

describe('the model registry on DynamoDB', () => {
  afterEach(() => dynamo.reset());

  it('writes the model under its tenant, guarded against overwrites, listed by creation time', async () => {
    dynamo.on(PutCommand).resolves({});
    await models.create('acme', model);
    const input = dynamo.commandCalls(PutCommand)[0].args[0].input;
    expect(input.Item).toMatchObject({ pk: 'T#acme', sk: 'MODEL#pump-model', gsi1pk: 'T#acme#MODELS', gsi1sk: '2026-01-01T00:00:00.000Z#pump-model', status: 'TRAINING' });
    expect(input.ConditionExpression).toBe('attribute_not_exists(pk)');
  });

  it('turns a taken id into 409 and throttling into a retryable 503', async () => {
    dynamo.on(PutCommand).rejectsOnce(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }));
    await expect(models.create('acme', model)).rejects.toBeInstanceOf(ConflictError);
    dynamo.on(GetCommand).rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    await expect(models.get('acme', 'pump-model')).rejects.toBeInstanceOf(DependencyError);
  });

  it('reads the record without its keys, and answers 404 for a model of another tenant', async () => {
    dynamo.on(GetCommand, { Key: { pk: 'T#acme', sk: 'MODEL#pump-model' } }).resolves({ Item: { pk: 'T#acme', sk: 'MODEL#pump-model', gsi1pk: 'x', gsi1sk: 'y', ...model } });
    dynamo.on(GetCommand, { Key: { pk: 'T#other', sk: 'MODEL#pump-model' } }).resolves({});
    expect(await getModel(models, 'acme', 'pump-model')).toEqual(model);
    await expect(getModel(models, 'other', 'pump-model')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('pages newest first on gsi1 with an opaque cursor, refusing one forged for another tenant', async () => {
    const last = { pk: 'T#acme', sk: 'MODEL#pump-model', gsi1pk: 'T#acme#MODELS', gsi1sk: '2026-01-01T00:00:00.000Z#pump-model' };
    dynamo.on(QueryCommand).resolves({ Items: [{ ...last, ...model }], LastEvaluatedKey: last });
    const first = await models.list('acme', { limit: 1 });
    await models.list('acme', { limit: 1, cursor: first.nextCursor });

    const calls = dynamo.commandCalls(QueryCommand);
    expect(first.items).toEqual([model]);
    expect(calls[0].args[0].input).toMatchObject({ IndexName: 'gsi1', ScanIndexForward: false, ExpressionAttributeValues: { ':p': 'T#acme#MODELS' } });
    expect(calls[1].args[0].input.ExclusiveStartKey).toEqual(last);
    await expect(models.list('acme', { limit: 1, cursor: encodeCursor({ ...last, gsi1pk: 'T#other#MODELS' }) })).rejects.toBeInstanceOf(ValidationError);
    await expect(models.list('acme', { limit: 1, cursor: encodeCursor({ ...last, pk: 'T#acmeco' }) })).rejects.toBeInstanceOf(ValidationError);
  });

  it('updates only within the run and from the allowed statuses, removing fields in the same write', async () => {
    dynamo.on(UpdateCommand).resolvesOnce({}).rejectsOnce(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }));
    expect(await models.update('acme', 'pump-model', { status: 'READY' }, { jobId: 'train-abc', allowedFrom: ['REGISTERING', 'READY'] }, ['staging'])).toBe(true);
    expect(await models.update('acme', 'pump-model', { status: 'READY' }, { jobId: 'stale' })).toBe(false);

    const input = dynamo.commandCalls(UpdateCommand)[0].args[0].input;
    expect(input.UpdateExpression).toBe('SET #updatedAt = :now, #status = :status REMOVE #staging');
    expect(input.ConditionExpression).toBe('attribute_exists(pk) AND #jobId = :jobId AND #status IN (:from0, :from1)');
    expect(input.ExpressionAttributeValues).toMatchObject({ ':jobId': 'train-abc', ':status': 'READY', ':from0': 'REGISTERING', ':from1': 'READY' });
  });
});

describe('model artifacts on S3', () => {
  afterEach(() => s3.reset());

  it('puts, copies within the bucket and deletes exactly the keys asked', async () => {
    s3.on(PutObjectCommand).resolves({});
    s3.on(CopyObjectCommand).resolves({});
    s3.on(DeleteObjectsCommand).resolves({});
    await artifacts.put('staging/acme/m/1/model.onnx', new Uint8Array([1, 2]), 'application/octet-stream');
    await artifacts.copy('staging/acme/m/1/model.onnx', 'models/acme/m/1/model.onnx');
    await artifacts.remove(['staging/acme/m/1/model.onnx', 'staging/acme/m/1/manifest.json']);

    expect(s3.commandCalls(PutObjectCommand)[0].args[0].input).toMatchObject({ Bucket: 'models-bucket', Key: 'staging/acme/m/1/model.onnx' });
    expect(s3.commandCalls(CopyObjectCommand)[0].args[0].input).toEqual({ Bucket: 'models-bucket', Key: 'models/acme/m/1/model.onnx', CopySource: 'models-bucket/staging/acme/m/1/model.onnx' });
    expect(s3.commandCalls(DeleteObjectsCommand)[0].args[0].input.Delete?.Objects).toEqual([{ Key: 'staging/acme/m/1/model.onnx' }, { Key: 'staging/acme/m/1/manifest.json' }]);
  });

  it('answers undefined for a missing object, and fails a delete S3 refused per key', async () => {
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'no', $metadata: {} }));
    expect(await artifacts.getBytes('models/acme/m/9/model.onnx')).toBeUndefined();
    s3.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'models/acme/m/1/model.onnx', Code: 'InternalError' }] });
    await expect(artifacts.remove(['models/acme/m/1/model.onnx'])).rejects.toBeInstanceOf(DependencyError);
  });
});

describe('starting the training state machine', () => {
  afterEach(() => sfn.reset());

  it('starts one execution named by the job, and counts an existing one as started', async () => {
    sfn.on(StartExecutionCommand).resolvesOnce({ executionArn: 'arn:x' }).rejectsOnce(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    await starter.start('train-abc', { tenant: 'acme' });
    await starter.start('train-abc', { tenant: 'acme' });

    expect(sfn.commandCalls(StartExecutionCommand)[0].args[0].input).toEqual({ stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:training', name: 'train-abc', input: '{"tenant":"acme"}' });
  });

  it('turns throttling into a retryable 503', async () => {
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('rate'), { name: 'ThrottlingException' }));
    await expect(starter.start('train-abc', {})).rejects.toBeInstanceOf(DependencyError);
  });
});
