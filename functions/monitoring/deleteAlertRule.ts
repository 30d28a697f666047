import { dynamoAlertStore } from '../../shared/aws/alertRepository.js';
import { snsAlertNotifier, ssmAlertSecrets } from '../../shared/aws/alertNotifications.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { deleteAlertRuleRoute } from '../../shared/monitoring/alertContract.js';
import { deleteAlertRule } from '../../shared/monitoring/alerts.js';

const deps = { store: dynamoAlertStore(), secrets: ssmAlertSecrets(), notifier: snsAlertNotifier() };

export const handler = apiHandler(deleteAlertRuleRoute, async ({ tenant, path }) => {
  await deleteAlertRule(deps, tenant, path.id);
  return { status: 204 };
});
