import { dynamoAlertStore } from '../../shared/aws/alertRepository.js';
import { snsAlertNotifier, ssmAlertSecrets } from '../../shared/aws/alertNotifications.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { updateAlertRuleRoute } from '../../shared/monitoring/alertContract.js';
import { updateAlertRule } from '../../shared/monitoring/alerts.js';

const deps = { store: dynamoAlertStore(), secrets: ssmAlertSecrets(), notifier: snsAlertNotifier() };

export const handler = apiHandler(updateAlertRuleRoute, async ({ tenant, path, body, principal }) => ({
  status: 200,
  body: await updateAlertRule(deps, tenant, path.id, body, principal!.subject),
}));
