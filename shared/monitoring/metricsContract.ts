import { z } from 'zod';
import { scopes } from '../gateway/scopes.js';
import { problemResponses } from '../http/problemSchema.js';
import { defineRoute } from '../http/route.js';
import { counterNames, minuteOf } from './metrics.js';

/** Steps one answer may hold, and the longest range it may cover (the counters are kept 35 days). */
export const maxSteps = 1440;
export const maxRangeDays = 31;

const stepUnits = { m: 1, h: 60, d: 1440 } as const;
const instant = z.union([z.iso.datetime({ offset: true }), z.string().regex(/^\d{1,15}$/)]).transform((s) => (/^\d+$/.test(s) ? Number(s) : Date.parse(s)));

const queryFields = z.strictObject({
  from: instant.optional().describe('Start (inclusive), ISO 8601 or epoch ms; default `to` minus one hour'),
  to: instant.optional().describe('End (exclusive), ISO 8601 or epoch ms; default now'),
  step: z
    .string()
    .regex(/^[1-9]\d{0,3}[mhd]$/, 'A number of minutes (m), hours (h) or days (d), e.g. 5m, 1h, 1d')
    .default('1m')
    .describe('Width of each step: 5m, 1h, 1d...; at most 1,440 steps an answer'),
});

/** The whole minutes a query covers; `to` rounds up so the minute it falls in is included. */
export function metricsWindow(q: z.infer<typeof queryFields>, now = Date.now()) {
  const toMinute = Math.ceil((q.to ?? now) / 60_000);
  const stepMinutes = Number(q.step.slice(0, -1)) * stepUnits[q.step.slice(-1) as keyof typeof stepUnits];
  return { fromMinute: q.from === undefined ? toMinute - 60 : minuteOf(q.from), toMinute, stepMinutes };
}

// A refinement, not a transform: the query stays an object whose fields the API document lists.
export const metricsQuery = queryFields.superRefine((q, ctx) => {
  const { fromMinute, toMinute, stepMinutes } = metricsWindow(q);
  if (fromMinute >= toMinute) ctx.addIssue({ code: 'custom', path: ['from'], message: '`from` must be before `to`' });
  else if (toMinute - fromMinute > maxRangeDays * 1440) ctx.addIssue({ code: 'custom', path: ['to'], message: `The range covers at most ${maxRangeDays} days` });
  else if (Math.ceil((toMinute - fromMinute) / stepMinutes) > maxSteps) ctx.addIssue({ code: 'custom', path: ['step'], message: `At most ${maxSteps} steps: choose a longer step` });
});

const count = z.number().int().min(0);
const ms = z.number().min(0).nullable();

export const metricsSeries = z.object({
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  stepMinutes: z.number().int(),
  steps: z.array(
    z.object({
      start: z.iso.datetime(),
      counts: z.object(Object.fromEntries(counterNames.map((name) => [name, count])) as Record<(typeof counterNames)[number], typeof count>),
      scoringLag: z.object({ count, meanMs: ms, maxMs: ms }).describe("From a message's arrival on the scoring queue to its readings scored"),
      predictLatency: z.object({ count, p50Ms: ms, p95Ms: ms }).describe('POST /ml/predict, within 9 % (log-bucket histogram)'),
    }),
  ),
});
export type MetricsSeries = z.infer<typeof metricsSeries>;

export const getMetricsRoute = defineRoute({
  method: 'GET',
  path: '/api/v1/monitoring/metrics',
  operationId: 'getMetrics',
  summary: "The tenant's platform figures per time step (readings, scoring lag, episodes, alerts, predict latency, pipelines, training)",
  tag: 'monitoring',
  scope: scopes.read,
  request: { query: metricsQuery },
  responses: {
    200: { description: 'Every step of the range, oldest first; steps with nothing recorded count zero', schema: metricsSeries },
    ...problemResponses(400, 401, 403),
  },
});
