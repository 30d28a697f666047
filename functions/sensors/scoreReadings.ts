import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { s3DatasetObjects } from '../../shared/aws/datasetObjects.js';
import { dynamoDatasetRepository } from '../../shared/aws/datasetRepository.js';
import { dynamoEpisodeStore } from '../../shared/aws/episodeRepository.js';
import { eventBusPublisher } from '../../shared/aws/eventBus.js';
import { platformMetrics } from '../../shared/aws/metricCounters.js';
import { sqsGroupScoringQueue } from '../../shared/aws/groupScoringQueue.js';
import { readingsStoreFromEnv } from '../../shared/aws/readingsStores.js';
import { dynamoScorerStateStore } from '../../shared/aws/scorerStateRepository.js';
import { dynamoSensorRepository } from '../../shared/aws/sensorRepository.js';
import { boundName, readConfig } from '../../shared/platform/config.js';
import { logger } from '../../shared/platform/observability.js';
import { queues } from '../../shared/platform/resources.js';
import { taskHandler } from '../../shared/platform/taskHandler.js';
import { scoringOrder } from '../../shared/sensors/scoringOrder.js';
import { eventClaimEnv, scoreReadings, type ScoringDeps } from '../../shared/sensors/scoring.js';
import { warmupHistory } from '../../shared/sensors/warmupHistory.js';

const sensors = dynamoSensorRepository();
const datasets = { datasets: dynamoDatasetRepository(), objects: s3DatasetObjects() };
const deps: ScoringDeps = {
  claimMs: readConfig(eventClaimEnv).EVENT_CLAIM_SECONDS * 1000,
  states: dynamoScorerStateStore(),
  episodes: dynamoEpisodeStore(),
  // Scores go where the writer put the readings (READINGS_STORE).
  scores: await readingsStoreFromEnv(),
  events: eventBusPublisher(),
  sensors,
  // A grouped sensor's readings also go to its group's deployed model, scored by another function (onnxruntime lives there).
  groupScoring: sqsGroupScoringQueue(boundName('QUEUE', queues.groupScoring.name)),
  history: (tenant, sensor) => warmupHistory(datasets, tenant, sensor),
};

/**
 * Consumes the scoring queue. Records run one at a time, each sensor's in time order, so a batch
 * never races itself for a sensor's state; a failed record alone comes back (partial batch response).
 */
export const handler = taskHandler(async (event: SQSEvent, context) => {
  const { records, messageOf } = scoringOrder(event.Records);
  const scoreRecord = async (record: SQSRecord) => {
    const message = messageOf(record);
    // Records run one after the other: each one's log lines carry its own request's id.
    if (message.correlationId) logger.setCorrelationId(message.correlationId);
    try {
      const outcome = await scoreReadings(deps, message);
      // Scoring lag: from the message's arrival on the scoring queue to its readings scored.
      if (outcome.scored > 0) platformMetrics().scoringLag(message.tenant, Date.now() - Number(record.attributes.SentTimestamp));
      if (outcome.warmup) logger.info('detector warm-up from a dataset', { tenant: message.tenant, sensorId: message.sensorId, ...outcome.warmup });
    } catch (error) {
      // The batch utility reports the record as failed without a word: say why, then let it come back.
      logger.warn('scoring a message failed; it comes back after the visibility timeout', { messageId: record.messageId, tenant: message.tenant, sensorId: message.sensorId, error });
      throw error;
    }
  };
  // One processor an invocation: it holds the batch's records and failures, and the local cloud runs
  // a function's invocations side by side in one module (Lambda gives each its own container).
  return processPartialResponse({ Records: records }, scoreRecord, new SqsFifoPartialProcessorAsync(), {
    context,
    // FIFO: a failed message fails the rest of its sensor's group in the batch, so none overtakes it; other sensors go on.
    skipGroupOnError: true,
  });
});
