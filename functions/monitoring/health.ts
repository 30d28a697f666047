import { awsProbes } from '../../shared/aws/healthProbes.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { platformConfig } from '../../shared/platform/config.js';
import { healthRoute } from '../../shared/monitoring/contract.js';
import { checkHealth } from '../../shared/monitoring/health.js';

const { SERVICE_VERSION, STAGE } = platformConfig();
const probes = awsProbes();

/** Public: statuses and latencies only; the physical names are behind GET /monitoring/health/dependencies. */
export const handler = apiHandler(healthRoute, async ({ query }) => {
  const report = await checkHealth({ version: SERVICE_VERSION, stage: STAGE }, query.deep ? probes : null);
  return { status: report.status === 'ok' ? 200 : 503, body: report, headers: { 'cache-control': 'no-store' } };
});
