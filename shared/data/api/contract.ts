import { z } from 'zod';
import { scopes } from '../../gateway/scopes.js';
import { problemResponses } from '../../http/problemSchema.js';
import { defineRoute } from '../../http/route.js';
import { resourceId } from '../../platform/ids.js';
import { DatasetSchema } from '../dataset-schema.js';
import { PreprocessRecipe, PreprocessResult } from '../preprocess-recipe.js';
import { QualityReport } from '../quality-report.js';
import { ValidationReport } from '../validation-report.js';

/** Inline data: records (JSON objects keyed by column) or CSV text, never both. */
const inlineData = {
  records: z.array(z.record(z.string(), z.unknown())).max(50_000).optional().describe('Rows as JSON objects keyed by column name'),
  csv: z.string().max(5 * 1024 * 1024).optional().describe('CSV text with a header row'),
  schema: DatasetSchema.optional().describe('What the columns mean; inferred when absent'),
};
const exactlyOne = (b: { records?: unknown; csv?: unknown }) => (b.records === undefined) !== (b.csv === undefined);
const exactlyOneMessage = { message: 'Send either records or csv', path: ['records'] };
const inlineLimit = 6 * 1024 * 1024;

export const validateDataRoute = defineRoute({
  method: 'POST',
  path: '/api/v1/data/validate',
  operationId: 'validateData',
  summary: 'Validate inline records or CSV against a declared or inferred schema; row-level errors',
  tag: 'data',
  scope: scopes.data,
  request: {
    body: z.strictObject({ ...inlineData, maxRowErrors: z.number().int().min(0).max(10_000).default(100) }).refine(exactlyOne, exactlyOneMessage),
    maxBodyBytes: inlineLimit,
  },
  responses: {
    200: { description: 'The validation report: data the pipeline accepts (`accepted`), `valid` when it has no row error either', schema: ValidationReport },
    ...problemResponses(400, 401, 403, 413, 415),
    422: { description: 'Fatal problems (empty, garbage, wrong delimiter...), or declared sensorIds not in your registry (`unknown_sensor`): the problem lists each issue', schema: z.unknown() },
  },
});

export const preprocessDataRoute = defineRoute({
  method: 'POST',
  path: '/api/v1/data/preprocess',
  operationId: 'preprocessData',
  summary: 'Apply a recipe to inline data: sort, de-duplicate, resample, impute, scale, window features',
  tag: 'data',
  scope: scopes.data,
  request: {
    body: z.strictObject({ ...inlineData, recipe: PreprocessRecipe.default(PreprocessRecipe.parse({})) }).refine(exactlyOne, exactlyOneMessage),
    maxBodyBytes: inlineLimit,
  },
  responses: {
    200: { description: 'What was done, and the processed records', schema: z.object({ result: PreprocessResult, records: z.array(z.record(z.string(), z.union([z.string(), z.number(), z.null()]))) }) },
    ...problemResponses(400, 401, 403, 413, 415, 422),
  },
});

export const qualityReportRoute = defineRoute({
  method: 'GET',
  path: '/api/v1/data/quality-report',
  operationId: 'getQualityReport',
  summary: 'The data profile of a dataset: JSON, or an HTML page with charts (Accept: text/html)',
  tag: 'data',
  scope: scopes.read,
  request: { query: z.strictObject({ datasetId: resourceId, format: z.enum(['json', 'html']).optional().describe('Overrides the Accept header') }) },
  responses: {
    200: { description: 'The quality report', schema: QualityReport, alsoProduces: ['text/html'] },
    ...problemResponses(400, 401, 403, 404),
  },
});
