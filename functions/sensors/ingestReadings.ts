import { idempotentByKey } from '../../shared/aws/idempotency.js';
import { platformMetrics } from '../../shared/aws/metricCounters.js';
import { sqsReadingsQueue } from '../../shared/aws/readingsQueue.js';
import { dynamoSensorRepository } from '../../shared/aws/sensorRepository.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { boundName } from '../../shared/platform/config.js';
import { queues } from '../../shared/platform/resources.js';
import { ingestReadings } from '../../shared/sensors/ingest.js';
import { ingestReadingsRoute, type ReadingsBatch } from '../../shared/sensors/readingsContract.js';
import { cachedSensors } from '../../shared/sensors/sensorCache.js';

const deps = { sensors: cachedSensors(dynamoSensorRepository()), queue: sqsReadingsQueue(boundName('QUEUE', queues.ingest.name)) };
const ingest = idempotentByKey((batch: ReadingsBatch, { tenant, correlationId }: { tenant: string; correlationId: string }) => ingestReadings(deps, tenant, batch, correlationId));

export const handler = apiHandler(ingestReadingsRoute, async ({ tenant, body, headers, correlationId, lambdaContext }) => {
  const answer = await ingest({ tenant, key: headers['idempotency-key'], payload: body, context: { tenant, correlationId }, lambdaContext });
  platformMetrics().count(tenant, { readingsIngested: answer.accepted, readingsRejected: answer.rejected.length }); // written in the background
  return { status: 202, body: answer };
});
