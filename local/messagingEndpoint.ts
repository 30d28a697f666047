import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSMessageAttribute, SQSMessageAttributes } from 'aws-lambda';
import type { EventBus } from './eventBus.js';
import type { FaultPlan } from './faults.js';
import { md5Hex, type QueueDispatcher } from './queueDispatcher.js';
import type { LocalStateMachines } from './stateMachines.js';

/** SQS's largest message (1 MiB since 2025). */
const maxMessageBytes = 1_048_576;
const maxEventEntryBytes = 262_144;

interface SdkMessageAttribute {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
  StringListValues?: string[];
  BinaryListValues?: string[];
}

export class AwsProtocolError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** SQS's MD5 of message attributes: sorted names, each length-prefixed with its type and value. */
export function md5OfMessageAttributes(attributes: Record<string, SdkMessageAttribute>): string {
  const parts: Buffer[] = [];
  const prefixed = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const attribute = attributes[name];
    prefixed(Buffer.from(name, 'utf8'));
    prefixed(Buffer.from(attribute.DataType, 'utf8'));
    if (attribute.BinaryValue !== undefined) {
      parts.push(Buffer.from([2]));
      prefixed(Buffer.from(attribute.BinaryValue, 'base64'));
    } else {
      parts.push(Buffer.from([1]));
      prefixed(Buffer.from(attribute.StringValue ?? '', 'utf8'));
    }
  }
  return md5Hex(Buffer.concat(parts));
}

/** The SDK's attribute shape to the one Lambda puts in SQS records. */
function toRecordAttributes(attributes: Record<string, SdkMessageAttribute> | undefined): SQSMessageAttributes {
  const result: SQSMessageAttributes = {};
  for (const [name, a] of Object.entries(attributes ?? {})) {
    const attribute: SQSMessageAttribute = { dataType: a.DataType, stringListValues: a.StringListValues ?? [], binaryListValues: a.BinaryListValues ?? [] };
    if (a.StringValue !== undefined) attribute.stringValue = a.StringValue;
    if (a.BinaryValue !== undefined) attribute.binaryValue = a.BinaryValue;
    result[name] = attribute;
  }
  return result;
}

interface SendInput {
  MessageBody?: string;
  DelaySeconds?: number;
  MessageAttributes?: Record<string, SdkMessageAttribute>;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
}

/**
 * A small HTTP endpoint speaking the AWS JSON protocols of SQS (awsJson1_0: SendMessage,
 * SendMessageBatch, GetQueueUrl, GetQueueAttributes; ReceiveMessage and StartMessageMoveTask on
 * the dead-letter queues `<queue>-dlq`), EventBridge (awsJson1_1: PutEvents) and
 * Step Functions (awsJson1_0: StartExecution, DescribeExecution),
 * so the handlers' SDK clients run unchanged against the in-process queues and bus. `more` adds
 * services: JSON operations by X-Amz-Target (SSM), and a query-protocol one (SNS: form bodies, XML answers).
 */
export function createMessagingEndpoint(
  queues: QueueDispatcher,
  bus: EventBus,
  stateMachines: LocalStateMachines,
  faults?: FaultPlan,
  more: { operations?: Record<string, (input: Record<string, unknown>) => unknown>; query?: (params: URLSearchParams) => { status: number; xml: string } } = {},
) {
  const queueOf = (input: { QueueUrl?: string; QueueName?: string }) => {
    const name = input.QueueName ?? input.QueueUrl?.split('/').pop() ?? '';
    const queue = queues.queue(name);
    if (!queue) throw new AwsProtocolError('QueueDoesNotExist', `The specified queue does not exist: ${name}`);
    return queue;
  };

  /** A queue's dead-letter queue is named `<queue>-dlq` (`<queue>-dlq.fifo` for a FIFO queue), as an SQS queue of its own. */
  const deadLetterSuffix = '-dlq';
  const arnOf = (physicalName: string) => `arn:aws:sqs:us-east-1:000000000000:${physicalName}`;
  const deadLetterNameOf = (queue: { physicalName: string }) => queue.physicalName.replace(/(\.fifo)?$/, `${deadLetterSuffix}$1`);
  const deadLetterQueueOf = (name: string) => {
    const base = name.replace(/\.fifo$/, '');
    if (!base.endsWith(deadLetterSuffix)) return undefined;
    const sourceName = base.slice(0, -deadLetterSuffix.length);
    const source = queues.queue(sourceName) ?? queues.queue(`${sourceName}.fifo`);
    return source && deadLetterNameOf(source) === name ? source : undefined;
  };
  const deadLettersOf = (input: { QueueUrl?: string; QueueName?: string }) => {
    const name = input.QueueName ?? input.QueueUrl?.split('/').pop() ?? '';
    const source = deadLetterQueueOf(name);
    if (!source) throw new AwsProtocolError('QueueDoesNotExist', `The specified queue does not exist: ${name}`);
    return source;
  };
  /** Messages a ReceiveMessage of a dead-letter queue returned stay hidden for its visibility timeout, as on SQS. */
  const hiddenUntil = new Map<string, number>();

  const sendOne = (queueName: string, input: SendInput) => {
    if (queues.queue(queueName)?.declaration.fifo) {
      if (!input.MessageGroupId) throw new AwsProtocolError('MissingParameter', 'The request must contain the parameter MessageGroupId.');
      if (!input.MessageDeduplicationId) {
        throw new AwsProtocolError('InvalidParameterValue', 'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly');
      }
    }
    if (typeof input.MessageBody !== 'string' || input.MessageBody.length === 0) throw new AwsProtocolError('MissingParameter', 'The request must contain the parameter MessageBody.');
    if (Buffer.byteLength(input.MessageBody) > maxMessageBytes) throw new AwsProtocolError('InvalidParameterValue', `One or more parameters are invalid. Reason: Message must be shorter than ${maxMessageBytes} bytes.`);
    const sent = queues.send(queueName, { body: input.MessageBody, delaySeconds: input.DelaySeconds, messageAttributes: toRecordAttributes(input.MessageAttributes), messageGroupId: input.MessageGroupId, messageDeduplicationId: input.MessageDeduplicationId });
    return {
      MessageId: sent.messageId,
      MD5OfMessageBody: sent.md5OfBody,
      ...(sent.sequenceNumber ? { SequenceNumber: sent.sequenceNumber } : {}),
      ...(input.MessageAttributes && Object.keys(input.MessageAttributes).length > 0 ? { MD5OfMessageAttributes: md5OfMessageAttributes(input.MessageAttributes) } : {}),
    };
  };

  const operations: Record<string, (input: Record<string, unknown>, endpoint: string) => unknown> = {
    'AmazonSQS.SendMessage': (input) => sendOne(queueOf(input).declaration.name, input as SendInput),
    'AmazonSQS.SendMessageBatch': (input) => {
      const queue = queueOf(input);
      const entries = (input.Entries ?? []) as (SendInput & { Id: string })[];
      if (entries.length === 0) throw new AwsProtocolError('EmptyBatchRequest', 'There should be at least one SendMessageBatchRequestEntry in the request.');
      if (entries.length > 10) throw new AwsProtocolError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are 10. You have sent ${entries.length}.`);
      if (new Set(entries.map((e) => e.Id)).size !== entries.length) throw new AwsProtocolError('BatchEntryIdsNotDistinct', 'Two or more batch entries in the request have the same Id.');
      const total = entries.reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody ?? ''), 0);
      if (total > maxMessageBytes) throw new AwsProtocolError('BatchRequestTooLong', `Batch requests cannot be longer than ${maxMessageBytes} bytes.`);
      const Successful: unknown[] = [];
      const Failed: unknown[] = [];
      for (const entry of entries) {
        try {
          Successful.push({ Id: entry.Id, ...sendOne(queue.declaration.name, entry) });
        } catch (error) {
          const e = error as AwsProtocolError;
          Failed.push({ Id: entry.Id, SenderFault: true, Code: e.code, Message: e.message });
        }
      }
      return { Successful, Failed };
    },
    'AmazonSQS.ChangeMessageVisibility': (input) => {
      const queue = queueOf(input);
      const seconds = Number(input.VisibilityTimeout);
      if (!Number.isInteger(seconds) || seconds < 0 || seconds > 43_200) throw new AwsProtocolError('InvalidParameterValue', 'Value for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.');
      if (!queues.changeVisibility(queue.declaration.name, String(input.ReceiptHandle ?? ''), seconds)) {
        throw new AwsProtocolError('ReceiptHandleIsInvalid', 'The receipt handle is not valid (the message was deleted, or received again since).');
      }
      return {};
    },
    'AmazonSQS.GetQueueUrl': (input, endpoint) => {
      const name = String(input.QueueName ?? '');
      const source = deadLetterQueueOf(name);
      return { QueueUrl: `${endpoint}/000000000000/${source ? deadLetterNameOf(source) : queueOf(input).physicalName}` };
    },
    'AmazonSQS.GetQueueAttributes': (input) => {
      const name = String(input.QueueUrl ?? '').split('/').pop() ?? '';
      const source = deadLetterQueueOf(name);
      if (source) {
        return { Attributes: { ApproximateNumberOfMessages: String(queues.deadLetters(source.declaration.name).length), QueueArn: arnOf(deadLetterNameOf(source)) } };
      }
      const queue = queueOf(input);
      const stats = queues.stats(queue.declaration.name);
      return {
        Attributes: {
          ApproximateNumberOfMessages: String(stats.pending - stats.inFlight),
          ApproximateNumberOfMessagesNotVisible: String(stats.inFlight),
          VisibilityTimeout: String(queue.declaration.visibilityTimeoutSeconds),
          QueueArn: arnOf(queue.physicalName),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arnOf(deadLetterNameOf(queue)), maxReceiveCount: queue.declaration.maxReceiveCount }),
        },
      };
    },
    // Dead-letter queues only: the other queues are read by their functions, as event source mappings do on AWS.
    'AmazonSQS.ReceiveMessage': (input) => {
      const source = deadLettersOf(input);
      const max = Number(input.MaxNumberOfMessages ?? 1);
      if (!Number.isInteger(max) || max < 1 || max > 10) throw new AwsProtocolError('InvalidParameterValue', 'Value for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10.');
      const now = Date.now();
      const visibility = Number(input.VisibilityTimeout ?? 30) * 1000;
      const messages = queues
        .deadLetters(source.declaration.name)
        .filter((m) => (hiddenUntil.get(m.messageId) ?? 0) <= now)
        .slice(0, max);
      for (const m of messages) hiddenUntil.set(m.messageId, now + visibility);
      return {
        Messages: messages.map((m) => ({
          MessageId: m.messageId,
          ReceiptHandle: Buffer.from(m.messageId).toString('base64'),
          MD5OfBody: md5Hex(m.body),
          Body: m.body,
          Attributes: { ApproximateReceiveCount: String(m.receiveCount), SentTimestamp: String(m.sentTimestamp) },
        })),
      };
    },
    'AmazonSQS.StartMessageMoveTask': (input) => {
      const sourceArn = String(input.SourceArn ?? '');
      const source = deadLetterQueueOf(sourceArn.split(':').pop() ?? '');
      if (!source) throw new AwsProtocolError('ResourceNotFoundException', `The resource that you specified for the SourceArn parameter doesn't exist: ${sourceArn}`);
      if (input.DestinationArn !== undefined && input.DestinationArn !== arnOf(source.physicalName)) {
        throw new AwsProtocolError('InvalidParameterValue', 'The local cloud moves dead letters back to their own queue only.');
      }
      // The local move is done at once; SQS does it in the background and reports on ListMessageMoveTasks.
      const moved = queues.redrive(source.declaration.name);
      return { TaskHandle: Buffer.from(JSON.stringify({ sourceArn, moved })).toString('base64') };
    },
    'AWSStepFunctions.StartExecution': (input) => {
      const stateMachine = stateMachines.nameOf(String(input.stateMachineArn ?? ''));
      if (!stateMachine) throw new AwsProtocolError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${String(input.stateMachineArn)}'`);
      try {
        const execution = stateMachines.start(stateMachine, input.name as string | undefined, typeof input.input === 'string' ? input.input : '{}');
        return { executionArn: execution.executionArn, startDate: execution.startDate.getTime() / 1000 };
      } catch (error) {
        throw new AwsProtocolError('ExecutionAlreadyExists', (error as Error).message);
      }
    },
    'AWSStepFunctions.DescribeExecution': (input) => {
      const execution = stateMachines.execution(String(input.executionArn ?? ''));
      if (!execution) throw new AwsProtocolError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(input.executionArn)}'`);
      const status = execution.status === 'PENDING_DEFINITION' ? 'RUNNING' : execution.status;
      return {
        executionArn: execution.executionArn,
        stateMachineArn: execution.executionArn.replace(':execution:', ':stateMachine:').replace(/:[^:]+$/, ''),
        name: execution.name,
        status,
        startDate: execution.startDate.getTime() / 1000,
        input: execution.input,
        ...(execution.output !== undefined ? { output: JSON.stringify(execution.output) } : {}),
        ...(execution.error ? { error: 'States.TaskFailed', cause: execution.error } : {}),
      };
    },
    'AWSEvents.PutEvents': (input) => {
      const entries = (input.Entries ?? []) as { Source?: string; DetailType?: string; Detail?: string; EventBusName?: string; Resources?: string[]; Time?: number | string }[];
      if (entries.length === 0 || entries.length > 10) throw new AwsProtocolError('ValidationException', 'PutEvents takes 1 to 10 entries.');
      // A partial failure (`events:PutEvents=partial`): some entries, at least one, are refused and never put on the bus.
      const refused = new Set<number>();
      const fault = faults?.has('events') ? faults.draw('events', 'PutEvents') : undefined;
      if (fault) {
        entries.forEach((_, i) => (faults!.chance() < (fault.argument ?? 0.5) ? refused.add(i) : undefined));
        if (refused.size === 0) refused.add(Math.floor(faults!.chance() * entries.length));
      }
      const results = entries.map((entry, i) => {
        if (refused.has(i)) return { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service error.' };
        if (!bus.isThisBus(entry.EventBusName)) return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: `Event bus ${entry.EventBusName ?? 'default'} does not exist.` };
        if (!entry.Source || !entry.DetailType || entry.Detail === undefined) return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameters Source, DetailType and Detail are required.' };
        if (Buffer.byteLength(entry.Detail) + entry.DetailType.length + entry.Source.length > maxEventEntryBytes) return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Entry is larger than 256 KB.' };
        let detail: unknown;
        try {
          detail = JSON.parse(entry.Detail);
        } catch {
          return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
        }
        if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail must be a JSON object.' };
        const time = entry.Time === undefined ? undefined : new Date(typeof entry.Time === 'number' ? entry.Time * 1000 : entry.Time);
        return { EventId: bus.put({ source: entry.Source, detailType: entry.DetailType, detail, resources: entry.Resources, time }) };
      });
      return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
    },
    ...more.operations,
  };

  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (more.query && String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
        const answer = more.query(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
        response.writeHead(answer.status, { 'content-type': 'text/xml', 'x-amzn-requestid': crypto.randomUUID(), 'content-length': Buffer.byteLength(answer.xml) });
        return response.end(answer.xml);
      }
      const target = String(request.headers['x-amz-target'] ?? '');
      const contentType = target.startsWith('AWSEvents.') || target.startsWith('AmazonSSM.') ? 'application/x-amz-json-1.1' : 'application/x-amz-json-1.0';
      const reply = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        response.writeHead(status, { 'content-type': contentType, 'x-amzn-requestid': crypto.randomUUID(), 'content-length': Buffer.byteLength(text) });
        response.end(text);
      };
      const operation = operations[target];
      const namespace = target.startsWith('AmazonSQS.') ? 'com.amazonaws.sqs#' : target.startsWith('AWSStepFunctions.') ? 'com.amazonaws.sfn#' : '';
      if (!operation) return reply(400, { __type: `${namespace}UnsupportedOperation`, message: `The local cloud does not implement ${target || 'this request'}.` });
      try {
        const input = (chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {}) as Record<string, unknown>;
        reply(200, operation(input, `http://${request.headers.host}`));
      } catch (error) {
        const e = error instanceof AwsProtocolError ? error : new AwsProtocolError('InternalFailure', (error as Error).message, 500);
        // No x-amzn-query-error header: the SDK then names the error after __type, as for any JSON service.
        reply(e.status, { __type: `${namespace}${e.code}`, message: e.message });
      }
    });
  });

  return {
    server,
    async start(): Promise<string> {
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    stop(): Promise<void> {
      return new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
