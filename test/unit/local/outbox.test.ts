import { CreateTopicCommand, PublishCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../../local/eventBus.js';
import { createMessagingEndpoint } from '../../../local/messagingEndpoint.js';
import { LocalOutbox } from '../../../local/outbox.js';
import { LocalParameterStore } from '../../../local/parameterStore.js';
import { QueueDispatcher } from '../../../local/queueDispatcher.js';
import { LocalStateMachines } from '../../../local/stateMachines.js';
import { signWebhook } from '../../../shared/monitoring/alertDelivery.js';

const parameters = new LocalParameterStore();
const outbox = new LocalOutbox(() => parameters.secrets());
const receipts: { handle: string; count: string; at: number }[] = [];
const queues = new QueueDispatcher([{ declaration: { name: 'work', visibilityTimeoutSeconds: 30, maxReceiveCount: 5 }, physicalName: 'work' }]);
// A consumer that fails every message, and keeps the receipt handles for the visibility changes.
queues.subscribe('work', {
  fn: {
    spec: { name: 'failing', memoryMb: 128, timeoutSeconds: 5 },
    handler: async (event: never) => {
      for (const r of (event as SQSEvent).Records) receipts.push({ handle: r.receiptHandle, count: r.attributes.ApproximateReceiveCount, at: Date.now() });
      throw new Error('fails');
    },
  },
  batchSize: 1,
  maxBatchingWindowSeconds: 0,
});
const bus = new EventBus({ name: 'bus' });
const endpoint = createMessagingEndpoint(queues, bus, new LocalStateMachines(), undefined, { operations: parameters.operations(), query: (params) => outbox.snsRequest(params) });
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
let url: string;
let sns: SNSClient;
let ssm: SSMClient;
let sqs: SQSClient;

beforeAll(async () => {
  url = await endpoint.start();
  sns = new SNSClient({ region: 'us-east-1', endpoint: url, credentials });
  ssm = new SSMClient({ region: 'us-east-1', endpoint: url, credentials });
  sqs = new SQSClient({ region: 'us-east-1', endpoint: url, credentials });
});
afterAll(async () => {
  queues.stop();
  bus.stop();
  await outbox.stop();
  await endpoint.stop();
});

describe('local SNS: topics, filtered subscriptions, the outbox', () => {
  it('delivers a published message once to each email or SMS subscription whose filter policy matches', async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'telltale-local-alerts-acme' }));
    expect(TopicArn).toBe('arn:aws:sns:us-east-1:000000000000:telltale-local-alerts-acme');
    for (const [Protocol, Endpoint] of [
      ['email', 'a@example.com'],
      ['email', 'b@example.com'],
      ['sms', '+4915112345678'],
    ]) {
      await sns.send(new SubscribeCommand({ TopicArn, Protocol, Endpoint, Attributes: { FilterPolicy: JSON.stringify({ target: [Endpoint] }) } }));
    }
    await sns.send(new PublishCommand({ TopicArn, Subject: 'Alert', Message: 'pump 1 vibrates', MessageAttributes: { target: { DataType: 'String', StringValue: 'b@example.com' } } }));
    await sns.send(new PublishCommand({ TopicArn, Message: 'pump 2 is silent', MessageAttributes: { target: { DataType: 'String', StringValue: '+4915112345678' } } }));
    expect(outbox.entries().map((e) => [e.channel, e.to, e.subject, e.body])).toEqual([
      ['email', 'b@example.com', 'Alert', 'pump 1 vibrates'],
      ['sms', '+4915112345678', undefined, 'pump 2 is silent'],
    ]);
    expect(outbox.page()).toContain('pump 1 vibrates');
  });

  it('answers SNS errors for an unknown topic', async () => {
    await expect(sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:nope', Message: 'x' }))).rejects.toMatchObject({ name: 'NotFoundException' });
  });
});

describe('local SSM parameters', () => {
  it('puts, reads (decrypted or not), refuses to overwrite, deletes', async () => {
    await ssm.send(new PutParameterCommand({ Name: '/telltale/local/alert-secrets/acme/s1', Value: 'whsec_abc', Type: 'SecureString' }));
    expect((await ssm.send(new GetParameterCommand({ Name: '/telltale/local/alert-secrets/acme/s1', WithDecryption: true }))).Parameter?.Value).toBe('whsec_abc');
    expect((await ssm.send(new GetParameterCommand({ Name: '/telltale/local/alert-secrets/acme/s1' }))).Parameter?.Value).not.toBe('whsec_abc');
    await expect(ssm.send(new PutParameterCommand({ Name: '/telltale/local/alert-secrets/acme/s1', Value: 'other', Type: 'SecureString' }))).rejects.toMatchObject({ name: 'ParameterAlreadyExists' });
    await ssm.send(new DeleteParameterCommand({ Name: '/telltale/local/alert-secrets/acme/s1' }));
    await expect(ssm.send(new GetParameterCommand({ Name: '/telltale/local/alert-secrets/acme/s1' }))).rejects.toMatchObject({ name: 'ParameterNotFound' });
  });
});

describe('the webhook receiver', () => {
  it('records deliveries with their idempotency key and whether a stored secret signs them', async () => {
    await ssm.send(new PutParameterCommand({ Name: '/telltale/local/alert-secrets/acme/s2', Value: 'whsec_receiver', Type: 'SecureString' }));
    const receiver = await outbox.startReceiver();
    const body = '{"alertId":"al-1"}';
    const timestamp = String(Math.floor(Date.now() / 1000));
    const post = (secret: string) =>
      fetch(`${receiver}/hook`, { method: 'POST', body, headers: { 'telltale-timestamp': timestamp, 'telltale-signature': signWebhook(secret, timestamp, body), 'idempotency-key': 'al-1.0' } });
    expect((await post('whsec_receiver')).status).toBe(200);
    expect((await post('whsec_forged')).status).toBe(200);
    expect(outbox.entries().filter((e) => e.channel === 'webhook').map((e) => [e.to, e.idempotencyKey, e.signatureValid])).toEqual([
      ['POST /hook', 'al-1.0', true],
      ['POST /hook', 'al-1.0', false],
    ]);
  });
});

describe('local SQS ChangeMessageVisibility', () => {
  it('keeps a failed message invisible for the time given, and refuses a stale receipt handle', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: `${url}/000000000000/work`, MessageBody: 'x' }));
    while (receipts.length < 1) await new Promise((resolve) => setTimeout(resolve, 2));
    const first = receipts[0];
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: `${url}/000000000000/work`, ReceiptHandle: first.handle, VisibilityTimeout: 1 }));
    while (receipts.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    // Back after about a second, not after the queue's 30 s visibility timeout.
    expect(receipts[1].at - first.at).toBeGreaterThanOrEqual(900);
    expect(receipts[1].at - first.at).toBeLessThan(5000);
    expect(receipts[1].count).toBe('2');
    await expect(sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: `${url}/000000000000/work`, ReceiptHandle: first.handle, VisibilityTimeout: 1 }))).rejects.toMatchObject({ name: 'ReceiptHandleIsInvalid' });
  });
});
