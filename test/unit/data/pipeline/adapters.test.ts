import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { s3DatasetObjects } from '../../../../shared/aws/datasetObjects.js';
import { dynamoDatasetRepository } from '../../../../shared/aws/datasetRepository.js';

const s3 = mockClient(S3Client);
const dynamo = mockClient(DynamoDBDocumentClient);
const objects = s3DatasetObjects('datasets-bucket');
const datasets = dynamoDatasetRepository('datasets-table');
/** An object body as the SDK hands it over: a stream with its transform helpers. */
const body = (text: string) => Object.assign(Readable.from([Buffer.from(text)]), { transformToByteArray: async () => new Uint8Array(Buffer.from(text)) });

describe('the dataset adapters pin what a run reads and guard what it takes over', () => {
  afterEach(() => {
    s3.reset();
    dynamo.reset();
  });

  it('reads the version of the raw object the run was started for: whole, by byte range, and its size', async () => {
    s3.on(GetObjectCommand).callsFake(() => ({ Body: body('abc') }) as never);
    s3.on(HeadObjectCommand).resolves({ ContentLength: 3, ETag: '"e"', VersionId: 'v1' });

    for await (const chunk of await objects.read('datasets/acme/d/raw/data.csv', 'v1')) expect(chunk).toBeDefined();
    await objects.readRange('datasets/acme/d/raw/data.csv', 0, 3, 'v1');
    expect(await objects.head('datasets/acme/d/raw/data.csv', 'v1')).toEqual({ size: 3, eTag: '"e"', versionId: 'v1' });

    const gets = s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input);
    expect(gets).toEqual([
      { Bucket: 'datasets-bucket', Key: 'datasets/acme/d/raw/data.csv', VersionId: 'v1' },
      { Bucket: 'datasets-bucket', Key: 'datasets/acme/d/raw/data.csv', VersionId: 'v1', Range: 'bytes=0-2' },
    ]);
    expect(s3.commandCalls(HeadObjectCommand)[0].args[0].input).toEqual({ Bucket: 'datasets-bucket', Key: 'datasets/acme/d/raw/data.csv', VersionId: 'v1' });
  });

  it('takes a dataset over only when it has no run, the same run, or an earlier one; false when a later run has it', async () => {
    dynamo.on(UpdateCommand).resolvesOnce({}).rejectsOnce(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    const run = { id: 'ds-2', startedAt: '2026-12-06T06:00:00.000Z', order: '2026-12-06T06:00:00.000Z/0000000000000000000000000000000A' };

    expect(await datasets.takeOver('acme', 'd', run, { status: 'VALIDATING' })).toBe(true);
    expect(await datasets.takeOver('acme', 'd', run, { status: 'VALIDATING' })).toBe(false);

    const input = dynamo.commandCalls(UpdateCommand)[0].args[0].input;
    expect(input.ConditionExpression).toBe('attribute_exists(pk) AND (attribute_not_exists(#run) OR #run.#runId = :runId OR attribute_not_exists(#run.#order) OR #run.#order <= :order)');
    expect(input.ExpressionAttributeValues).toMatchObject({ ':runId': 'ds-2', ':order': run.order, ':run': run, ':status': 'VALIDATING' });
  });
});
