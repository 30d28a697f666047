import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { once } from '../../shared/aws/clients.js';
import { dynamoDeploymentRepository } from '../../shared/aws/deploymentRepository.js';
import { dynamoEpisodeStore } from '../../shared/aws/episodeRepository.js';
import { eventBusPublisher } from '../../shared/aws/eventBus.js';
import { s3ModelArtifacts } from '../../shared/aws/modelArtifacts.js';
import { dynamoModelRepository } from '../../shared/aws/modelRepository.js';
import { readingsStoreFromEnv } from '../../shared/aws/readingsStores.js';
import { dynamoGroupScorerStateStore } from '../../shared/aws/scorerStateRepository.js';
import { dynamoSensorRepository } from '../../shared/aws/sensorRepository.js';
import { groupModels } from '../../shared/ml/registry/groupPrediction.js';
import { cachedDeployments, cachedModelRecords } from '../../shared/ml/registry/predictionCache.js';
import { readConfig } from '../../shared/platform/config.js';
import { logger } from '../../shared/platform/observability.js';
import { taskHandler } from '../../shared/platform/taskHandler.js';
import { groupScoringMessage } from '../../shared/sensors/groupScoringMessage.js';
import { scoreGroupReadings, type GroupScoringDeps } from '../../shared/sensors/groupScoring.js';
import { eventClaimEnv } from '../../shared/sensors/scoring.js';
import { cachedSensors } from '../../shared/sensors/sensorCache.js';

// As in the predict function: one onnxruntime session per model version, model pointers and deployments
// kept a few seconds (predictionCache.ts), for the life of the container. The loader is built with the
// first group that has a deployment. Run from TypeScript (the local cloud), onnxruntime's native addon
// loads only then; the deployed bundle imports it at start (esbuild hoists an external ESM import).
const loader = once(async () => {
  const [{ modelLoader }, { modelStorageConfig }] = await Promise.all([import('../../shared/ml/registry/modelLoader.js'), import('../../shared/ml/registry/modelStorage.js')]);
  return modelLoader({ models: cachedModelRecords(dynamoModelRepository()), artifacts: s3ModelArtifacts(), ...modelStorageConfig() });
});
const deps: GroupScoringDeps = {
  claimMs: readConfig(eventClaimEnv).EVENT_CLAIM_SECONDS * 1000,
  states: dynamoGroupScorerStateStore(),
  episodes: dynamoEpisodeStore(),
  events: eventBusPublisher(),
  readings: await readingsStoreFromEnv(),
  sensors: cachedSensors(dynamoSensorRepository()),
  models: groupModels(loader, cachedDeployments(dynamoDeploymentRepository())),
};

/**
 * Consumes the group-scoring queue: a grouped sensor's new readings, scored with its group's
 * deployed model. A group's messages come one batch at a time (FIFO groups); a failed one alone
 * comes back, with the rest of its group's in the batch behind it.
 */
export const handler = taskHandler(async (event: SQSEvent, context) => {
  const scoreRecord = async (record: SQSRecord) => {
    const message = groupScoringMessage.parse(JSON.parse(record.body));
    const outcome = await scoreGroupReadings(deps, message);
    if (outcome.opened + outcome.closed > 0 || outcome.unaligned > 0) logger.info('group model scored readings', { tenant: message.tenant, group: message.group, ...outcome });
  };
  return processPartialResponse(event, scoreRecord, new SqsFifoPartialProcessorAsync(), { context, skipGroupOnError: true });
});
