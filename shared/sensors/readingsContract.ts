import { z } from 'zod';
import { scopes } from '../gateway/scopes.js';
import { problemResponses } from '../http/problemSchema.js';
import { defineRoute } from '../http/route.js';
import { resourceId } from '../platform/ids.js';

/** Readings per request, in either form. */
export const maxReadingsPerRequest = 1000;
/** How far ahead of the API's clock a reading may be (clock skew of the sender). */
export const maxFutureSkewMs = 5 * 60_000;
/** Readings before this are refused: live monitoring starts in 2000, and epoch seconds sent as milliseconds land in 1970. */
export const minReadingTimestamp = Date.UTC(2000, 0, 1);

const timestampInput = z
  .union([z.number(), z.string().max(64)])
  .describe('Epoch milliseconds, or an ISO 8601 date-time with a zone (e.g. 2026-03-01T12:00:00.250Z)');
const valueInput = z.number().nullable().describe('A finite number; null (what JSON makes of NaN and Infinity) rejects that reading');
const qualityInput = z.number().describe('Quality code or fraction of the sender, stored as given');

const rowBatch = z
  .strictObject({
    readings: z
      .array(z.strictObject({ sensorId: z.string().max(128), timestamp: timestampInput, value: valueInput, quality: qualityInput.optional() }))
      .min(1)
      .max(maxReadingsPerRequest),
  })
  .meta({ title: 'RowBatch', description: `Up to ${maxReadingsPerRequest} readings of any sensors` });

const columnarBatch = z
  .strictObject({
    sensorId: z.string().max(128),
    timestamps: z.array(timestampInput).min(1).max(maxReadingsPerRequest),
    values: z.array(valueInput).min(1).max(maxReadingsPerRequest),
    qualities: z.array(qualityInput.nullable()).max(maxReadingsPerRequest).optional().describe('null where a reading has none'),
  })
  .refine((b) => b.values.length === b.timestamps.length && (b.qualities === undefined || b.qualities.length === b.timestamps.length), {
    message: 'timestamps, values and qualities must have the same length',
    path: ['values'],
  })
  .meta({ title: 'ColumnarBatch', description: `Up to ${maxReadingsPerRequest} readings of one sensor, as parallel arrays (cheaper to send and parse)` });

export const readingsBatch = z.union([rowBatch, columnarBatch]);
export type ReadingsBatch = z.infer<typeof readingsBatch>;

export const rejectionReasons = ['unknown_sensor', 'invalid_sensor_id', 'invalid_value', 'invalid_timestamp', 'future_timestamp'] as const;
export const rejection = z.object({
  index: z.number().int().describe('Position of the reading in the request (in `readings`, or in `timestamps`)'),
  reason: z.enum(rejectionReasons),
  detail: z.string(),
});
export type Rejection = z.infer<typeof rejection>;

export const ingestAnswer = z.object({
  accepted: z.number().int().describe('Readings durably queued for storage and scoring'),
  rejected: z.array(rejection),
});
export type IngestAnswer = z.infer<typeof ingestAnswer>;

export const ingestReadingsRoute = defineRoute({
  method: 'POST',
  path: '/api/v1/readings',
  operationId: 'ingestReadings',
  summary: 'Send readings',
  tag: 'sensors',
  scope: scopes.ingest,
  request: {
    body: readingsBatch,
    headers: [
      {
        name: 'Idempotency-Key',
        description: 'Up to 128 printable characters. A retry with the same key (within an hour) gets the first answer and queues nothing new; the same key with another body is a 422.',
      },
    ],
  },
  responses: {
    202: {
      description: `Queued. Readings are refused one by one, with their index and reason: a sensor the tenant has not registered, a value that is not a finite number, a timestamp that is not a date, before 2000, or more than ${maxFutureSkewMs / 60_000} minutes ahead of the API's clock. A reading is identified by (sensor, timestamp): sending one again never stores it twice.`,
      schema: ingestAnswer,
    },
    ...problemResponses(400, 401, 403, 409, 413, 415, 422, 503),
  },
});

/** Epoch ms or ISO 8601 in a query string. */
export const instant = z
  .string()
  .max(64)
  .transform((s, ctx) => {
    const ms = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: 'Not a date: use epoch milliseconds or ISO 8601' });
      return z.NEVER;
    }
    return ms;
  });

export const maxPointsLimit = 10_000;

export const readingsQuery = z
  .strictObject({
    from: instant.optional().describe('Start (inclusive), epoch ms or ISO 8601; default `to` minus 24 hours'),
    to: instant.optional().describe('End (exclusive), epoch ms or ISO 8601; default now'),
    maxPoints: z.coerce.number().int().min(1).max(maxPointsLimit).default(1000).describe('Raw readings when the range holds no more; else this many min/max/mean buckets'),
  });

const point = z.object({
  timestamp: z.iso.datetime(),
  value: z.number().optional().describe('Raw readings'),
  quality: z.number().optional(),
  late: z.boolean().optional().describe('Arrived after a newer reading of the sensor'),
  min: z.number().optional().describe('Buckets'),
  max: z.number().optional(),
  mean: z.number().optional(),
  count: z.number().int().optional(),
  score: z.number().optional().describe('Anomaly score (the highest of a bucket), once scored'),
  label: z.union([z.literal(0), z.literal(1)]).optional().describe('1 when anomalous (any reading of a bucket)'),
});

export const readingsSeries = z.object({
  sensorId: z.string(),
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  resolution: z.enum(['raw', 'buckets']),
  bucketMs: z.number().int().optional().describe('Width of each bucket'),
  count: z.number().int().describe('Readings in the range'),
  points: z.array(point),
});
export type ReadingsSeries = z.infer<typeof readingsSeries>;

export const getReadingsRoute = defineRoute({
  method: 'GET',
  path: '/api/v1/sensors/{id}/readings',
  operationId: 'getReadings',
  summary: 'Readings of a sensor in a time range, with scores',
  tag: 'sensors',
  scope: scopes.read,
  request: { path: z.object({ id: resourceId }), query: readingsQuery },
  responses: {
    200: { description: 'The readings (or buckets) in time order; CSV with Accept: text/csv', schema: readingsSeries, alsoProduces: ['text/csv'] },
    ...problemResponses(400, 401, 403, 404, 422),
  },
});

export const getLabelledHistoryRoute = defineRoute({
  method: 'GET',
  path: '/api/v1/sensors/{id}/labelled-history',
  operationId: 'getLabelledHistory',
  summary: "A sensor's readings, with its companions' aligned, labelled by the operators' verdicts: a dataset to evaluate or train on (CSV)",
  tag: 'sensors',
  scope: scopes.read,
  request: {
    path: z.object({ id: resourceId }),
    query: z
      .strictObject({
        with: z
          .string()
          .max(6_500)
          .transform((v) => v.split(','))
          .pipe(z.array(resourceId).max(50))
          .optional()
          .describe("Other sensors (a group model's features), comma-separated: each row takes their readings nearest in time, within this sensor's sampling interval"),
        from: instant.describe('Start (inclusive), epoch ms or ISO 8601'),
        to: instant.describe('End (exclusive), epoch ms or ISO 8601'),
      })
      .refine((q) => q.from < q.to, { message: 'from must be before to', path: ['to'] }),
  },
  responses: {
    200: {
      description: 'CSV `timestamp,<sensor ids>,label`, one row per reading of this sensor with every other sensor present; label 1 inside an episode an operator confirmed on one of them (register it with POST /datasets, then POST /ml/evaluate with labelColumn label)',
      alsoProduces: ['text/csv'],
    },
    ...problemResponses(400, 401, 403, 404, 422),
  },
});
