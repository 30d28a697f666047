import { dynamoMetricCounters } from '../../shared/aws/metricCounters.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { stepFigures } from '../../shared/monitoring/metrics.js';
import { getMetricsRoute, metricsWindow } from '../../shared/monitoring/metricsContract.js';

const counters = dynamoMetricCounters();

export const handler = apiHandler(getMetricsRoute, async ({ tenant, query }) => {
  const { fromMinute, toMinute, stepMinutes } = metricsWindow(query);
  const records = await counters.read(tenant, fromMinute, toMinute);
  const iso = (minute: number) => new Date(minute * 60_000).toISOString();
  return { status: 200, body: { from: iso(fromMinute), to: iso(toMinute), stepMinutes, steps: stepFigures(records, fromMinute, toMinute, stepMinutes) } };
});
