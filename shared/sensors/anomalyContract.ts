import { z } from 'zod';
import { scopes } from '../gateway/scopes.js';
import { problemResponses } from '../http/problemSchema.js';
import { defineRoute } from '../http/route.js';
import { resourceId } from '../platform/ids.js';
import { pageOf, pageQuery } from '../platform/page.js';
import { episode, episodeStatuses, verdictInput } from './episode.js';

const episodeId = z.string().regex(/^ep-[0-9a-f]{24}$/, 'An episode id, ep- and 24 hex digits');
const episodeSchema = episode.meta({ id: 'AnomalyEpisode' });

export const listAnomaliesRoute = defineRoute({
  method: 'GET',
  path: '/api/v1/anomalies',
  operationId: 'listAnomalies',
  summary: 'List anomaly episodes, newest first, by sensor, group, status and start time',
  tag: 'sensors',
  scope: scopes.read,
  request: {
    query: z
      .strictObject({
        ...pageQuery,
        sensorId: resourceId.optional(),
        group: resourceId.optional(),
        status: z.enum(episodeStatuses).optional(),
        from: z.iso.datetime().optional().describe('Episodes that started at or after this time'),
        to: z.iso.datetime().optional().describe('Episodes that started at or before this time'),
      })
      .refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), { message: 'from must not be after to', path: ['to'] }),
  },
  responses: { 200: { description: 'A page of episodes', schema: pageOf(episodeSchema) }, ...problemResponses(400, 401, 403) },
});

export const getAnomalyRoute = defineRoute({
  method: 'GET',
  path: '/api/v1/anomalies/{id}',
  operationId: 'getAnomaly',
  summary: 'Get an anomaly episode',
  tag: 'sensors',
  scope: scopes.read,
  request: { path: z.object({ id: episodeId }) },
  responses: { 200: { description: 'The episode', schema: episodeSchema }, ...problemResponses(400, 401, 403, 404) },
});

export const reviewAnomalyRoute = defineRoute({
  method: 'PATCH',
  path: '/api/v1/anomalies/{id}',
  operationId: 'reviewAnomaly',
  summary: "Record an operator's verdict on an episode (confirmed or rejected), with who and when",
  tag: 'sensors',
  // The plant's operators judge episodes: the scope that registers sensors and sends readings.
  scope: scopes.ingest,
  request: { path: z.object({ id: episodeId }), body: verdictInput, maxBodyBytes: 8_192 },
  responses: { 200: { description: 'The episode with its verdict', schema: episodeSchema }, ...problemResponses(400, 401, 403, 404, 413, 415) },
});
