import type { ScheduledEvent } from 'aws-lambda';
import { z } from 'zod';
import { allDeployments } from '../../shared/aws/deploymentRepository.js';
import { dynamoDriftStateStore } from '../../shared/aws/driftStateRepository.js';
import { eventBusPublisher } from '../../shared/aws/eventBus.js';
import { s3ModelArtifacts } from '../../shared/aws/modelArtifacts.js';
import { readingsStoreFromEnv } from '../../shared/aws/readingsStores.js';
import { dynamoSensorRepository } from '../../shared/aws/sensorRepository.js';
import { modelKeys } from '../../shared/ml/registry/model.js';
import { checkDeployedModels, referenceOfManifest, type DriftCheckOutcome } from '../../shared/monitoring/driftCheck.js';
import { readConfig } from '../../shared/platform/config.js';
import { logger } from '../../shared/platform/observability.js';
import { taskHandler } from '../../shared/platform/taskHandler.js';
import { tenantCache } from '../../shared/platform/tenantCache.js';
import { cachedSensors } from '../../shared/sensors/sensorCache.js';

const config = readConfig(
  z.object({
    /** The readings compared with the training reference: the last N minutes before the tick. */
    DRIFT_WINDOW_MINUTES: z.coerce.number().int().min(5).max(7 * 1440).default(60),
    /** Fewer aligned rows than this in the window: no verdict. */
    DRIFT_MIN_ROWS: z.coerce.number().int().min(20).max(1_000_000).default(100),
  }),
);
const settings = { windowMs: config.DRIFT_WINDOW_MINUTES * 60_000, minRows: config.DRIFT_MIN_ROWS };

const readings = await readingsStoreFromEnv();
const sensors = cachedSensors(dynamoSensorRepository());
const artifacts = s3ModelArtifacts();
// A version's manifest never changes once registered: kept an hour per container (a missing one a minute).
const manifests = tenantCache(
  async (_tenant, key) => {
    const bytes = await artifacts.getBytes(key);
    return bytes ? referenceOfManifest(JSON.parse(Buffer.from(bytes).toString('utf8'))) : undefined;
  },
  { ttlMs: (found) => (found ? 3_600_000 : 60_000), maxEntries: 1000 },
);
const deps = {
  deployments: { [Symbol.asyncIterator]: () => allDeployments() },
  readings: readings.range.bind(readings),
  references: (tenant: string, modelId: string, version: number) => manifests.get(tenant, modelKeys(tenant, modelId, version).manifest),
  samplingIntervalSeconds: async (tenant: string, sensorId: string) => (await sensors.get(tenant, sensorId))?.samplingIntervalSeconds,
  states: dynamoDriftStateStore(),
  events: eventBusPublisher(),
};

/**
 * A tick of the schedule: every deployed model version (champion and challenger of each group)
 * compared with its training reference on the group's recent readings; drift.detected once per
 * drift episode, drift.resolved when it clears. The tick's time is the window's end, so a retried
 * tick makes the same episodes; its correlation id is on every log line and on the events.
 */
export const handler = taskHandler(async (event: Pick<ScheduledEvent, 'time'>) => {
  const at = new Date(event.time ?? Date.now()).toISOString();
  const correlationId = `drift-check-${at}`;
  logger.setCorrelationId(correlationId);
  const outcomes: Partial<Record<DriftCheckOutcome['outcome'], number>> = {};
  let failed = 0;
  for await (const checked of checkDeployedModels(deps, settings, { at, correlationId })) {
    const { tenant, group, role, modelId, version } = checked.model;
    const where = { tenant, group, role, modelId, version };
    if ('error' in checked) {
      failed += 1;
      logger.warn('the drift check of a deployed model failed', { ...where, error: checked.error });
      continue;
    }
    const result = checked.result;
    outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
    if (result.outcome === 'skipped') logger.info('drift check skipped', { ...where, reason: result.reason, rows: result.rows });
    else if (result.outcome === 'detected' || result.outcome === 'resolved') logger.info(`drift ${result.outcome}`, { ...where, verdict: result.verdict, rows: result.rows });
  }
  if (failed > 0) throw new Error(`${failed} drift check(s) failed at ${at}`);
  return { at, outcomes };
});
