import { GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand, SQSClient, StartMessageMoveTaskCommand } from '@aws-sdk/client-sqs';
import { translateAwsError } from './errors.js';

export interface DeadLetterMessage {
  messageId: string;
  receiveCount: number;
  sentAt: string;
  body: string;
}

/** How long messages shown by `list` stay hidden in the dead-letter queue (ReceiveMessage's visibility timeout). */
export const listVisibilitySeconds = 30;

/**
 * A queue's dead-letter queue through the SQS API (AWS, LocalStack or the local cloud's messaging
 * endpoint): found from the queue's RedrivePolicy, listed with ReceiveMessage, moved back with
 * StartMessageMoveTask.
 */
export function deadLetterQueues(options: { endpoint?: string; region?: string; localCredentials?: boolean }) {
  const sqs = new SQSClient({
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    // The local cloud checks no signatures; the SDK still wants credentials to sign with.
    ...(options.localCredentials ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
  const call = async <T>(send: () => Promise<T>): Promise<T> => {
    try {
      return await send();
    } catch (error) {
      throw translateAwsError('SQS', error);
    }
  };

  /** The queue (a URL, or a name) with the URL and ARN of its dead-letter queue. */
  const resolve = async (queue: string) => {
    const queueUrl = /^https?:\/\//.test(queue) ? queue : (await call(() => sqs.send(new GetQueueUrlCommand({ QueueName: queue })))).QueueUrl!;
    const { Attributes } = await call(() => sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn', 'RedrivePolicy'] })));
    const policy = Attributes?.RedrivePolicy ? (JSON.parse(Attributes.RedrivePolicy) as { deadLetterTargetArn?: string }) : {};
    if (!policy.deadLetterTargetArn) throw new Error(`${queue} has no dead-letter queue (no RedrivePolicy)`);
    const deadLetterArn = policy.deadLetterTargetArn;
    const deadLetterUrl = (await call(() => sqs.send(new GetQueueUrlCommand({ QueueName: deadLetterArn.split(':').pop()!, QueueOwnerAWSAccountId: deadLetterArn.split(':')[4] })))).QueueUrl!;
    return { queueUrl, queueArn: Attributes!.QueueArn!, deadLetterUrl, deadLetterArn };
  };

  return {
    resolve,

    /** Up to `max` messages of the dead-letter queue; each one listed stays hidden there for 30 s. */
    async list(queue: string, max: number): Promise<{ deadLetterUrl: string; messages: DeadLetterMessage[] }> {
      const { deadLetterUrl } = await resolve(queue);
      const seen = new Map<string, DeadLetterMessage>();
      while (seen.size < max) {
        const { Messages = [] } = await call(() =>
          sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: deadLetterUrl,
              MaxNumberOfMessages: Math.min(10, max - seen.size),
              VisibilityTimeout: listVisibilitySeconds,
              MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
              WaitTimeSeconds: 0,
            }),
          ),
        );
        const fresh = Messages.filter((m) => m.MessageId && !seen.has(m.MessageId));
        if (fresh.length === 0) break;
        for (const m of fresh) {
          seen.set(m.MessageId!, {
            messageId: m.MessageId!,
            receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 0),
            sentAt: new Date(Number(m.Attributes?.SentTimestamp ?? 0)).toISOString(),
            body: m.Body ?? '',
          });
        }
      }
      return { deadLetterUrl, messages: [...seen.values()] };
    },

    /** Starts moving every message of the dead-letter queue back to the queue. */
    async redrive(queue: string): Promise<{ deadLetterArn: string; queueArn: string; taskHandle: string }> {
      const { deadLetterArn, queueArn } = await resolve(queue);
      const { TaskHandle } = await call(() => sqs.send(new StartMessageMoveTaskCommand({ SourceArn: deadLetterArn, DestinationArn: queueArn })));
      return { deadLetterArn, queueArn, taskHandle: TaskHandle ?? '' };
    },
  };
}
