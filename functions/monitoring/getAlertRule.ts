import { dynamoAlertStore } from '../../shared/aws/alertRepository.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { getAlertRuleRoute } from '../../shared/monitoring/alertContract.js';
import { getAlertRule } from '../../shared/monitoring/alerts.js';

const store = dynamoAlertStore();

export const handler = apiHandler(getAlertRuleRoute, async ({ tenant, path }) => ({ status: 200, body: await getAlertRule(store, tenant, path.id) }));
