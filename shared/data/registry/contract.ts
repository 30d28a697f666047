import { z } from 'zod';
import { scopes } from '../../gateway/scopes.js';
import { problemResponses } from '../../http/problemSchema.js';
import { defineRoute } from '../../http/route.js';
import { resourceId } from '../../platform/ids.js';
import { pageOf, pageQuery } from '../../platform/page.js';
import { dataset, maxInlineBytes, newDataset, registeredDataset, uploadRequest, uploadTarget } from './dataset.js';

export const registerDatasetRoute = defineRoute({
  method: 'POST',
  path: '/api/v1/datasets',
  operationId: 'registerDataset',
  summary: 'Register a dataset: get an upload URL, or send a small file inline',
  tag: 'data',
  scope: scopes.data,
  request: { body: newDataset, maxBodyBytes: maxInlineBytes + 64 * 1024 },
  responses: {
    201: { description: 'Registered; the pipeline starts when the file lands under raw/', schema: registeredDataset },
    200: { description: 'A retry of the request that registered this dataset (same body): the dataset, its inline file written if it was not', schema: registeredDataset },
    ...problemResponses(400, 401, 403, 409, 413, 415, 422),
  },
});

export const requestUploadRoute = defineRoute({
  method: 'POST',
  path: '/api/v1/datasets/{id}/upload',
  operationId: 'requestDatasetUpload',
  summary: "A fresh upload URL for a dataset's raw file (a new file starts a new run)",
  tag: 'data',
  scope: scopes.data,
  request: { path: z.object({ id: resourceId }), body: uploadRequest },
  responses: { 200: { description: 'Where to PUT the file, for exactly the declared size', schema: uploadTarget }, ...problemResponses(400, 401, 403, 404, 409, 413, 415) },
});

export const deleteDatasetRoute = defineRoute({
  method: 'DELETE',
  path: '/api/v1/datasets/{id}',
  operationId: 'deleteDataset',
  summary: 'Delete a dataset: every version of its objects, its runs\' scratch space, and its record',
  tag: 'data',
  scope: scopes.data,
  request: { path: z.object({ id: resourceId }) },
  responses: { 204: { description: 'Deleted; a second DELETE answers 404' }, ...problemResponses(400, 401, 403, 404) },
});

export const listDatasetsRoute = defineRoute({
  method: 'GET',
  path: '/api/v1/datasets',
  operationId: 'listDatasets',
  summary: 'List datasets, newest first',
  tag: 'data',
  scope: scopes.read,
  request: { query: z.strictObject({ ...pageQuery }) },
  responses: { 200: { description: 'A page of datasets', schema: pageOf(dataset) }, ...problemResponses(400, 401, 403) },
});

export const getDatasetRoute = defineRoute({
  method: 'GET',
  path: '/api/v1/datasets/{id}',
  operationId: 'getDataset',
  summary: 'Status, schema, row counts, quality summary and pipeline run of a dataset',
  tag: 'data',
  scope: scopes.read,
  request: { path: z.object({ id: resourceId }) },
  responses: { 200: { description: 'The dataset', schema: dataset }, ...problemResponses(400, 401, 403, 404) },
});

export const rerunDatasetRoute = defineRoute({
  method: 'POST',
  path: '/api/v1/datasets/{id}/runs',
  operationId: 'rerunDataset',
  summary: "Run the pipeline again on the dataset's current raw file",
  tag: 'data',
  scope: scopes.data,
  request: { path: z.object({ id: resourceId }) },
  responses: {
    202: {
      description: 'Accepted: a new run started; follow it with GET /datasets/{id}',
      schema: z.object({ runId: z.string().describe('The new run (its execution name)'), datasetId: resourceId, status: z.literal('started') }),
    },
    ...problemResponses(400, 401, 403, 404, 409),
  },
});
