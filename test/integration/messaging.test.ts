import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetQueueUrlCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { EventBridgeEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LocalFunction } from '../../local/lambdaRuntime.js';
import { useLocalCloud } from './localCloudFixture.js';

const local = useLocalCloud();
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** A test function registered with the dispatcher (not in the catalog). */
function testFunction<E, R>(name: string, respond: (event: E) => R) {
  const events: E[] = [];
  const fn: LocalFunction = {
    spec: { name, memoryMb: 128, timeoutSeconds: 5 },
    handler: async (event: never) => {
      events.push(event as E);
      return respond(event as E);
    },
  };
  return { fn, events };
}

let sqs: SQSClient;
let queueUrl: string;
let ingestBatches: SQSEvent[];
let busEvents: EventBridgeEvent<string, Record<string, unknown>>[];

beforeAll(() => {
  // Test functions wired to the real queue and bus; the consumer fails any message saying "poison".
  const consumer = testFunction<SQSEvent, SQSBatchResponse>('ingestTestConsumer', (event) => ({
    batchItemFailures: event.Records.filter((r) => r.body.includes('poison')).map((r) => ({ itemIdentifier: r.messageId })),
  }));
  ingestBatches = consumer.events;
  // The test consumer stands in for the catalog's reader of the ingest queue (storeReadings), so no other consumer competes for the messages.
  local.cloud.functions.get('storeReadings')!.handler = consumer.fn.handler;

  const target = testFunction<EventBridgeEvent<string, Record<string, unknown>>, void>('eventTestTarget', (event) => {
    if ((event.detail as { fail?: boolean }).fail) throw new Error('target failed');
  });
  busEvents = target.events;
  local.cloud.bus.addRule({ name: 'testRule', detailTypes: ['test.happened', 'Object Created'], fn: target.fn });

  sqs = new SQSClient({ region: 'us-east-1', credentials, endpoint: local.cloud.endpoints.messaging });
  queueUrl = local.cloud.names.queue('ingest');
});

describe('SQS over the wire into queue-triggered functions', () => {
  it('the queue URL handlers get resolves through GetQueueUrl', async () => {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'telltale-local-ingest.fifo' }));
    expect(QueueUrl).toBe(queueUrl);
  });

  it('SendMessage and SendMessageBatch (MD5s checked by the SDK) reach the consumer in SQS records', async () => {
    const single = await sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"n":0}', MessageGroupId: 'g', MessageDeduplicationId: 'n0', MessageAttributes: { tenant: { DataType: 'String', StringValue: 'acme' } } }),
    );
    expect(single.MessageId).toBeTruthy();
    expect(single.MD5OfMessageAttributes).toMatch(/^[0-9a-f]{32}$/);
    const batch = await sqs.send(
      new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: Array.from({ length: 5 }, (_, i) => ({ Id: `e${i}`, MessageBody: `{"n":${i + 1}}`, MessageGroupId: 'g', MessageDeduplicationId: `n${i + 1}` })) }),
    );
    expect(batch.Successful).toHaveLength(5);
    // A FIFO queue: the same deduplication id within 5 minutes is accepted and dropped.
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"n":0}', MessageGroupId: 'g', MessageDeduplicationId: 'n0' }));
    await local.cloud.drain(5_000);
    const records = ingestBatches.flatMap((e) => e.Records);
    // One group: delivered in send order.
    expect(records.map((r) => JSON.parse(r.body).n)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(records[0].attributes).toMatchObject({ MessageGroupId: 'g', MessageDeduplicationId: 'n0' });
    const first = records.find((r) => r.messageId === single.MessageId)!;
    expect(first.messageAttributes.tenant).toMatchObject({ dataType: 'String', stringValue: 'acme' });
    expect(first.eventSourceARN).toBe('arn:aws:sqs:us-east-1:000000000000:telltale-local-ingest.fifo');
    // Batches of up to 10 (a FIFO event source has no batching window): the six messages take few batches.
    expect(ingestBatches.length).toBeLessThanOrEqual(2);
  });

  it('SQS errors come back as the SDK expects them', async () => {
    await expect(sqs.send(new SendMessageCommand({ QueueUrl: `${local.cloud.endpoints.messaging}/000000000000/nope`, MessageBody: 'x' }))).rejects.toMatchObject({ name: 'QueueDoesNotExist' });
    await expect(
      sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, MessageBody: 'x' })) })),
    ).rejects.toMatchObject({ name: 'TooManyEntriesInBatchRequest' });
    // The FIFO ingest queue wants a group and a deduplication id (content-based deduplication is off).
    await expect(sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x', MessageDeduplicationId: 'd' }))).rejects.toMatchObject({ name: 'MissingParameter' });
    await expect(sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x', MessageGroupId: 'g' }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });

  it('a message the consumer keeps failing ends in the dead-letter list, the others do not', async () => {
    const before = ingestBatches.length;
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: [
          { Id: 'a', MessageBody: 'poison pill', MessageGroupId: 'poison', MessageDeduplicationId: 'a' },
          { Id: 'b', MessageBody: 'healthy', MessageGroupId: 'healthy', MessageDeduplicationId: 'b' },
        ],
      }),
    );
    await local.cloud.drain(10_000);
    const deliveries = ingestBatches.slice(before).flatMap((e) => e.Records);
    expect(deliveries.filter((r) => r.body === 'healthy')).toHaveLength(1);
    expect(deliveries.filter((r) => r.body === 'poison pill')).toHaveLength(5);
    expect(local.cloud.deadLetters('ingest')).toEqual([expect.objectContaining({ body: 'poison pill', receiveCount: 5 })]);
    const listed = (await (await fetch(`${local.cloud.url}/_local/queues/ingest/dead-letters`)).json()) as { items: { body: string }[] };
    expect(listed.items.map((m) => m.body)).toEqual(['poison pill']);
  });
});

describe('EventBridge PutEvents and S3 object events', () => {
  it('PutEvents delivers the EventBridge event shape to matching rules only', async () => {
    const client = new EventBridgeClient({ region: 'us-east-1', credentials, endpoint: local.cloud.endpoints.messaging });
    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          { EventBusName: local.cloud.names.bus(), Source: 'telltale', DetailType: 'test.happened', Detail: JSON.stringify({ n: 1 }) },
          { EventBusName: local.cloud.names.bus(), Source: 'telltale', DetailType: 'nobody.listens', Detail: JSON.stringify({ n: 2 }) },
          { EventBusName: local.cloud.names.bus(), Source: 'telltale', DetailType: 'test.happened', Detail: 'not json' },
        ],
      }),
    );
    expect(result.FailedEntryCount).toBe(1);
    expect(result.Entries?.[2].ErrorCode).toBe('MalformedDetail');
    await local.cloud.drain(5_000);
    const delivered = busEvents.filter((e) => e.source === 'telltale');
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ version: '0', id: result.Entries?.[0].EventId, 'detail-type': 'test.happened', account: '000000000000', region: 'us-east-1', detail: { n: 1 } });
  });

  it('a failing target is retried twice, then recorded as a failed event', async () => {
    const client = new EventBridgeClient({ region: 'us-east-1', credentials, endpoint: local.cloud.endpoints.messaging });
    const before = busEvents.length;
    await client.send(new PutEventsCommand({ Entries: [{ EventBusName: local.cloud.names.bus(), Source: 'telltale', DetailType: 'test.happened', Detail: JSON.stringify({ fail: true }) }] }));
    await local.cloud.drain(5_000);
    expect(busEvents.length - before).toBe(3);
    expect(local.cloud.failedEvents()).toEqual([expect.objectContaining({ rule: 'testRule', error: expect.stringMatching(/target failed/) })]);
  });

  it('an object put in an EventBridge-enabled bucket becomes an "Object Created" event', async () => {
    const s3 = new S3Client({ region: 'us-east-1', credentials, endpoint: local.cloud.endpoints.s3, forcePathStyle: true });
    await s3.send(new PutObjectCommand({ Bucket: local.cloud.names.bucket('datasets'), Key: 'datasets/acme/ds-1/raw/data.csv', Body: 'ts,value\n1,2\n' }));
    await s3.send(new PutObjectCommand({ Bucket: local.cloud.names.bucket('models'), Key: 'models/m.onnx', Body: 'x' }));
    await local.cloud.drain(5_000);
    const s3Events = busEvents.filter((e) => e.source === 'aws.s3');
    expect(s3Events).toHaveLength(1);
    expect(s3Events[0]).toMatchObject({
      'detail-type': 'Object Created',
      resources: ['arn:aws:s3:::telltale-local-datasets'],
      detail: { bucket: { name: 'telltale-local-datasets' }, object: { key: 'datasets/acme/ds-1/raw/data.csv', size: 13, etag: expect.any(String) } },
    });
  });
});

describe('Step Functions StartExecution', () => {
  it('runs a registered definition with the task states mapped to functions', async () => {
    const step = testFunction<Record<string, unknown>, Record<string, unknown>>('validateStep', (payload) => ({ ...payload, validated: true }));
    local.cloud.stateMachines.register(
      'datasetPipeline',
      { StartAt: 'Validate', States: { Validate: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'validateStep', 'Payload.$': '$' }, OutputPath: '$.Payload', End: true } } },
      { functions: new Map([['validateStep', step.fn]]) },
    );
    const sfn = new SFNClient({ region: 'us-east-1', credentials, endpoint: local.cloud.endpoints.messaging });
    const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: local.cloud.names.stateMachine('datasetPipeline'), name: 'run-1', input: JSON.stringify({ datasetId: 'ds-1' }) }));
    await local.cloud.drain(5_000);
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output!)).toEqual({ datasetId: 'ds-1', validated: true });
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn: local.cloud.names.stateMachine('datasetPipeline'), name: 'run-1', input: '{}' }))).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
  });
});
