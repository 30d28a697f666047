import { dynamoAlertStore } from '../../shared/aws/alertRepository.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { listAlertRulesRoute } from '../../shared/monitoring/alertContract.js';
import { listAlertRules } from '../../shared/monitoring/alerts.js';

const store = dynamoAlertStore();

export const handler = apiHandler(listAlertRulesRoute, async ({ tenant, query }) => ({ status: 200, body: await listAlertRules(store, tenant, query) }));
