import { dynamoAlertStore } from '../../shared/aws/alertRepository.js';
import { snsAlertNotifier, ssmAlertSecrets } from '../../shared/aws/alertNotifications.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { createAlertRuleRoute } from '../../shared/monitoring/alertContract.js';
import { createAlertRule } from '../../shared/monitoring/alerts.js';

const deps = { store: dynamoAlertStore(), secrets: ssmAlertSecrets(), notifier: snsAlertNotifier() };

export const handler = apiHandler(createAlertRuleRoute, async ({ tenant, body }) => ({ status: 201, body: await createAlertRule(deps, tenant, body) }));
