import { awsProbes } from '../../shared/aws/healthProbes.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { platformConfig } from '../../shared/platform/config.js';
import { healthDependenciesRoute } from '../../shared/monitoring/contract.js';
import { checkDependencies } from '../../shared/monitoring/health.js';

const { SERVICE_VERSION, STAGE } = platformConfig();
const probes = awsProbes();

/** Operators (admin scope): every dependency with its physical resource and the error a probe met. */
export const handler = apiHandler(healthDependenciesRoute, async () => {
  const report = await checkDependencies({ version: SERVICE_VERSION, stage: STAGE }, probes);
  return { status: report.status === 'ok' ? 200 : 503, body: report };
});
