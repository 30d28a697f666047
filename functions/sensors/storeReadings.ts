import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { readingsStoreFromEnv } from '../../shared/aws/readingsStores.js';
import { sqsReadingsQueue } from '../../shared/aws/readingsQueue.js';
import { boundName } from '../../shared/platform/config.js';
import { queues } from '../../shared/platform/resources.js';
import { taskHandler } from '../../shared/platform/taskHandler.js';
import { readingsMessage, type ReadingsMessage } from '../../shared/sensors/readingMessages.js';
import { sensorKeyOf, storeAndForward } from '../../shared/sensors/storeReadings.js';

const deps = { store: await readingsStoreFromEnv(), scoring: sqsReadingsQueue(boundName('QUEUE', queues.scoring.name)) };

/**
 * The ingest queue's writer. The messages of one sensor in a delivery are stored together (fewer
 * bucket writes); each message then succeeds or fails with its sensor's work (partial batch response).
 */
export const handler = taskHandler(async (event: SQSEvent, context) => {
  const parsed = new Map<string, ReadingsMessage | Error>();
  const groups = new Map<string, ReadingsMessage[]>();
  for (const record of event.Records) {
    const message = parse(record);
    parsed.set(record.messageId, message);
    if (message instanceof Error) continue;
    const group = groups.get(sensorKeyOf(message));
    if (group) group.push(message);
    else groups.set(sensorKeyOf(message), [message]);
  }
  const keys = [...groups.keys()];
  const done = storeAndForward(deps, [...groups.values()]);
  const work = new Map(keys.map((key, i) => [key, done[i]]));
  // Failures are reported per record below; this keeps a group's rejection from going unobserved meanwhile.
  for (const done of work.values()) done.catch(() => undefined);
  return processPartialResponse(
    event,
    async (record: SQSRecord) => {
      const message = parsed.get(record.messageId)!;
      if (message instanceof Error) throw message;
      await work.get(sensorKeyOf(message));
    },
    // One processor an invocation: it holds the batch's records and failures, and the local cloud runs
    // a function's invocations side by side in one module (Lambda gives each its own container).
    new SqsFifoPartialProcessorAsync(),
    // FIFO: a failed message fails the rest of its group in the batch, so none overtakes it; other groups go on.
    { context, skipGroupOnError: true },
  );
});

function parse(record: SQSRecord): ReadingsMessage | Error {
  try {
    return readingsMessage.parse(JSON.parse(record.body));
  } catch (error) {
    return new Error(`Message ${record.messageId} is not a readings message: ${(error as Error).message}`);
  }
}
