import { z } from 'zod';
import { scopes } from '../gateway/scopes.js';
import { defineRoute } from '../http/route.js';
import { problemResponses } from '../http/problemSchema.js';
import { resourceId } from '../platform/ids.js';
import { pageOf, pageQuery } from '../platform/page.js';
import { newSensor, sensor, sensorTypes } from './sensor.js';

export const registerSensorRoute = defineRoute({
  method: 'POST',
  path: '/api/v1/sensors',
  operationId: 'registerSensor',
  summary: 'Register a sensor',
  tag: 'sensors',
  scope: scopes.ingest,
  request: { body: newSensor, maxBodyBytes: 16_384 },
  responses: { 201: { description: 'Registered', schema: sensor }, ...problemResponses(400, 401, 403, 409, 413, 415) },
});

export const listSensorsRoute = defineRoute({
  method: 'GET',
  path: '/api/v1/sensors',
  operationId: 'listSensors',
  summary: 'List sensors, optionally by group or type',
  tag: 'sensors',
  scope: scopes.read,
  request: {
    query: z.strictObject({ ...pageQuery, group: resourceId.optional(), type: z.enum(sensorTypes).optional() }),
  },
  responses: { 200: { description: 'A page of sensors', schema: pageOf(sensor) }, ...problemResponses(400, 401, 403) },
});

export const getSensorRoute = defineRoute({
  method: 'GET',
  path: '/api/v1/sensors/{id}',
  operationId: 'getSensor',
  summary: 'Get a sensor',
  tag: 'sensors',
  scope: scopes.read,
  request: { path: z.object({ id: resourceId }) },
  responses: { 200: { description: 'The sensor', schema: sensor }, ...problemResponses(400, 401, 403, 404) },
});
