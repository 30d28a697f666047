import { dynamoAlertStore } from '../../shared/aws/alertRepository.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { listAlertEventsRoute } from '../../shared/monitoring/alertContract.js';
import { listAlertEvents } from '../../shared/monitoring/alerts.js';

const store = dynamoAlertStore();

export const handler = apiHandler(listAlertEventsRoute, async ({ tenant, path, query }) => ({ status: 200, body: await listAlertEvents(store, tenant, path.id, query) }));
