import { CreateTopicCommand, PublishCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { ChangeMessageVisibilityCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import type { AlertDeliveryQueue, AlertNotifier } from '../monitoring/alerts.js';
import type { AlertSecrets } from '../monitoring/alertStore.js';
import { boundName, platformConfig } from '../platform/config.js';
import { DependencyError } from '../platform/errors.js';
import { queues } from '../platform/resources.js';
import { callAws, callAwsUnless } from './errors.js';
import { sns as snsClientOf } from './snsClient.js';
import { sqs } from './sqsClient.js';
import { ssm } from './ssmClient.js';

/**
 * Names the stage's alert resources are created under at run time; the stack grants on these
 * patterns only (stacks/constructs/telltaleFunction.ts, bindAlerts).
 */
export const alertResourceNames = {
  /** One SNS topic per tenant. */
  topic: (stage: string, tenant: string) => `telltale-${stage}-alerts-${tenant}`,
  /** One SecureString parameter per webhook secret. */
  secretParameter: (stage: string, tenant: string, id: string) => `/telltale/${stage}/alert-secrets/${tenant}/${id}`,
} as const;

/** Webhook secrets as SSM SecureString parameters (encrypted with the account's aws/ssm key). */
export function ssmAlertSecrets(stage = platformConfig().STAGE): AlertSecrets {
  const cache = new Map<string, string>();
  const nameOf = (tenant: string, id: string) => alertResourceNames.secretParameter(stage, tenant, id);
  return {
    async put(tenant, id, secret) {
      await callAws('SSM', () => ssm().send(new PutParameterCommand({ Name: nameOf(tenant, id), Value: secret, Type: 'SecureString', Overwrite: false, Description: 'Telltale webhook signing secret' })));
    },
    async get(tenant, id) {
      const name = nameOf(tenant, id);
      const cached = cache.get(name);
      if (cached) return cached;
      const found = await callAws('SSM', () => ssm().send(new GetParameterCommand({ Name: name, WithDecryption: true })));
      const value = found.Parameter?.Value;
      if (!value) throw new DependencyError(`The signing secret ${name} is missing.`);
      cache.set(name, value);
      return value;
    },
    async remove(tenant, id) {
      cache.delete(nameOf(tenant, id));
      await callAwsUnless('SSM', () => ssm().send(new DeleteParameterCommand({ Name: nameOf(tenant, id) })), (e) => (e as { name?: string }).name === 'ParameterNotFound', undefined);
    },
  };
}

/**
 * Email and SMS through one SNS topic per tenant, created on first use (CreateTopic is
 * idempotent). Each address subscribes with a filter policy on the `target` attribute, so a
 * notification reaches only the address or number its rule names.
 */
export function snsAlertNotifier(stage = platformConfig().STAGE): AlertNotifier {
  const topics = new Map<string, Promise<string>>();
  const topicOf = (tenant: string) => {
    let topic = topics.get(tenant);
    if (!topic) {
      topic = callAws('SNS', async () => (await snsClientOf().send(new CreateTopicCommand({ Name: alertResourceNames.topic(stage, tenant), Attributes: { KmsMasterKeyId: 'alias/aws/sns' } }))).TopicArn!);
      topic.catch(() => topics.delete(tenant));
      topics.set(tenant, topic);
    }
    return topic;
  };
  const endpointOf = (target: Parameters<AlertNotifier['publish']>[1]) => (target.kind === 'email' ? target.address : target.phoneNumber);
  return {
    async subscribe(tenant, target) {
      const TopicArn = await topicOf(tenant);
      await callAws('SNS', () =>
        snsClientOf().send(new SubscribeCommand({ TopicArn, Protocol: target.kind, Endpoint: endpointOf(target), Attributes: { FilterPolicy: JSON.stringify({ target: [endpointOf(target)] }) } })),
      );
    },
    async publish(tenant, target, subject, message) {
      const TopicArn = await topicOf(tenant);
      await callAws('SNS', () =>
        snsClientOf().send(
          new PublishCommand({ TopicArn, Subject: subject.slice(0, 100), Message: message, MessageAttributes: { target: { DataType: 'String', StringValue: endpointOf(target) } } }),
        ),
      );
    },
  };
}

/** The alert delivery queue (standard SQS, with its dead-letter queue). */
export function sqsAlertDeliveryQueue(queueUrl = boundName('QUEUE', queues.alertDeliveries.name)): AlertDeliveryQueue & { retryLater(receiptHandle: string, seconds: number): Promise<void> } {
  return {
    async enqueue(messages) {
      for (let i = 0; i < messages.length; i += 10) {
        const entries = messages.slice(i, i + 10).map((m, j) => ({ Id: String(j), MessageBody: JSON.stringify(m) }));
        const out = await callAws('SQS', () => sqs().send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries })));
        if (out.Failed && out.Failed.length > 0) throw new DependencyError(`SQS refused ${out.Failed.length} alert notification(s); the event is retried.`);
      }
    },
    /** Backoff: the failed message stays invisible this long before its next attempt. */
    async retryLater(receiptHandle, seconds) {
      await callAws('SQS', () => sqs().send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds })));
    },
  };
}
