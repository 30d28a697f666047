import { z } from 'zod';
import { scopes } from '../gateway/scopes.js';
import { problemResponses } from '../http/problemSchema.js';
import { defineRoute } from '../http/route.js';
import type { Sensor } from '../sensors/sensor.js';

/** Where the stage's CloudWatch dashboard is, given to the function by the stack (none on the local cloud). */
export const operatorDashboardEnv = z.object({
  AWS_REGION: z.string().default('us-east-1'),
  OPS_DASHBOARD_NAME: z.string().min(1).optional(),
});

/** The operators' CloudWatch dashboard of the stage: one name per stage, made by stacks/constructs/operations.ts. */
export const opsDashboardName = (stage: string) => `Telltale-${stage}`;

const widget = z.discriminatedUnion('type', [
  z.object({ type: z.literal('metrics'), title: z.string(), source: z.string().describe('The API route the widget reads') }),
  z.object({ type: z.literal('sensor'), title: z.string(), sensorId: z.string(), source: z.string() }),
  z.object({ type: z.literal('anomalyTimeline'), title: z.string(), source: z.string() }),
  z.object({ type: z.literal('alerts'), title: z.string(), source: z.string() }),
]);
export type Widget = z.infer<typeof widget>;

export const dashboardsAnswer = z.object({
  dashboards: z.array(z.object({ id: z.string(), title: z.string(), widgets: z.array(widget) })),
  operator: z
    .object({ name: z.string(), region: z.string(), url: z.url() })
    .nullable()
    .describe("The stage's CloudWatch dashboard of alarms and key metrics (operators); null where there is none, as on the local cloud"),
});
export type DashboardsAnswer = z.infer<typeof dashboardsAnswer>;

export const getDashboardsRoute = defineRoute({
  method: 'GET',
  path: '/api/v1/monitoring/dashboards',
  operationId: 'getDashboards',
  summary: "The tenant's dashboards as data (widgets over sensors, anomalies, alerts and metrics) and the operators' CloudWatch dashboard",
  tag: 'monitoring',
  scope: scopes.read,
  request: {},
  responses: { 200: { description: 'The dashboards', schema: dashboardsAnswer }, ...problemResponses(401, 403) },
});

/** Sensors shown on the default dashboard, in the registry's order; the rest are a click away. */
export const dashboardSensorLimit = 12;

/**
 * The tenant's default dashboard, derived from its sensors: the platform figures, one widget per
 * sensor (readings with scores), the anomaly timeline and the alerts.
 */
export function defaultDashboards(sensors: readonly Pick<Sensor, 'id' | 'name'>[], env: z.infer<typeof operatorDashboardEnv>): DashboardsAnswer {
  const widgets: Widget[] = [
    { type: 'metrics', title: 'Platform figures', source: '/api/v1/monitoring/metrics?step=5m' },
    { type: 'anomalyTimeline', title: 'Anomaly episodes', source: '/api/v1/anomalies' },
    { type: 'alerts', title: 'Alerts', source: '/api/v1/monitoring/alerts' },
    ...sensors.slice(0, dashboardSensorLimit).map((s): Widget => ({ type: 'sensor', title: s.name, sensorId: s.id, source: `/api/v1/sensors/${encodeURIComponent(s.id)}/readings` })),
  ];
  const name = env.OPS_DASHBOARD_NAME;
  return {
    dashboards: [{ id: 'default', title: 'Overview', widgets }],
    operator: name
      ? { name, region: env.AWS_REGION, url: `https://${env.AWS_REGION}.console.aws.amazon.com/cloudwatch/home?region=${env.AWS_REGION}#dashboards/dashboard/${encodeURIComponent(name)}` }
      : null,
  };
}
