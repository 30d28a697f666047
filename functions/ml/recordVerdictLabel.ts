import type { EventBridgeEvent } from 'aws-lambda';
import { dynamoVerdictLabelStore } from '../../shared/aws/verdictLabelRepository.js';
import { taskHandler } from '../../shared/platform/taskHandler.js';
import { anomalyReviewed } from '../../shared/ml/registry/verdictLabels.js';

const labels = dynamoVerdictLabelStore();

/** Keeps an operator's verdict (`anomaly.reviewed`) as the ml context's label; a malformed event fails, to the rule's dead-letter queue. */
export const handler = taskHandler(async (event: EventBridgeEvent<string, unknown>) => {
  const { tenant, ...label } = anomalyReviewed.parse(event.detail);
  await labels.put(tenant, label);
});
