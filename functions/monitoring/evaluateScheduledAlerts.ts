import type { ScheduledEvent } from 'aws-lambda';
import { sqsAlertDeliveryQueue } from '../../shared/aws/alertNotifications.js';
import { dynamoAlertStore } from '../../shared/aws/alertRepository.js';
import { eventBusPublisher } from '../../shared/aws/eventBus.js';
import { readingsStoreFromEnv } from '../../shared/aws/readingsStores.js';
import { isScheduled } from '../../shared/monitoring/alertRule.js';
import { evaluateScheduledRule } from '../../shared/monitoring/alertSchedule.js';
import { fireDueWatches } from '../../shared/monitoring/alerts.js';
import { logger } from '../../shared/platform/observability.js';
import { taskHandler } from '../../shared/platform/taskHandler.js';

const readings = await readingsStoreFromEnv();
const deps = { store: dynamoAlertStore(), deliveries: sqsAlertDeliveryQueue(), events: eventBusPublisher(), readings: readings.range.bind(readings) };

/**
 * A tick of the schedule: every tenant's time-based rules (silence, a reading beyond a limit for N
 * minutes, a predicted crossing) judged on the sensors' recent readings, then the open episodes that
 * have now lasted their rules' minimum duration. A rule that fails is
 * logged and the tick fails after the others ran; its retry carries the same time, so what fired stays fired once.
 */
export const handler = taskHandler(async (event: Pick<ScheduledEvent, 'time'>) => {
  const tickAt = new Date(event.time ?? Date.now()).toISOString();
  const outcomes: Record<string, number> = {};
  let failed = 0;
  for await (const { tenant, rule } of deps.store.scheduledRules()) {
    if (!isScheduled(rule.condition)) continue;
    try {
      const outcome = await evaluateScheduledRule(deps, tenant, { ...rule, condition: rule.condition }, tickAt);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    } catch (error) {
      failed += 1;
      logger.warn('a scheduled alert rule failed to evaluate', { tenant, ruleId: rule.id, error });
    }
  }
  for (const outcome of await fireDueWatches(deps, tickAt)) outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  if (failed > 0) throw new Error(`${failed} scheduled alert rule(s) failed to evaluate at ${tickAt}`);
  return { tickAt, outcomes };
});
