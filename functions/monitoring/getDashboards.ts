import { dynamoSensorRepository } from '../../shared/aws/sensorRepository.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { dashboardSensorLimit, defaultDashboards, getDashboardsRoute, operatorDashboardEnv } from '../../shared/monitoring/dashboards.js';
import { readConfig } from '../../shared/platform/config.js';

const sensors = dynamoSensorRepository();
const env = readConfig(operatorDashboardEnv);

export const handler = apiHandler(getDashboardsRoute, async ({ tenant }) => {
  const { items } = await sensors.list(tenant, {}, { limit: dashboardSensorLimit });
  return { status: 200, body: defaultDashboards(items, env) };
});
