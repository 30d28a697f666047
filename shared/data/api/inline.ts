import type { ByteSource } from '../byte-source.js';
import { sourceFromRecords, sourceFromText } from '../byte-source.js';
import type { DatasetSchema } from '../dataset-schema.js';
import { preprocessToRecords } from '../preprocess-dataset.js';
import type { PreprocessRecipeInput } from '../preprocess-recipe.js';
import { assertValid, validateDataset } from '../validate-dataset.js';
import type { SensorRepository } from '../../sensors/sensorRepository.js';
import { assertKnownSensors } from '../registry/knownSensors.js';

export interface InlineData {
  records?: Record<string, unknown>[];
  csv?: string;
  schema?: DatasetSchema;
}

const sourceOf = (data: InlineData): ByteSource => (data.csv !== undefined ? sourceFromText(data.csv) : sourceFromRecords(data.records ?? []));

/**
 * Validates inline data by the rules POST /datasets and its pipeline apply: declared sensorIds must
 * be in the tenant's registry (422 unknown_sensor), fatal problems are a 422 that lists them, the
 * rest is the report (`accepted`; `valid` only without row errors).
 */
export async function validateInline(sensors: Pick<SensorRepository, 'get'>, tenant: string, data: InlineData, maxRowErrors: number) {
  await assertKnownSensors(sensors, tenant, data.schema);
  const report = await validateDataset(sourceOf(data), { schema: data.schema, maxRowErrors });
  assertValid(report);
  return report;
}

/**
 * The most bytes of records POST /data/preprocess answers: Lambda returns at most 6 MB, and
 * resampling can make many rows of few (each gap adds up to maxEmptyBuckets).
 */
export const maxPreprocessOutputBytes = 5 * 1024 * 1024;

/**
 * Validates, then preprocesses inline data with the recipe, returning records; records over
 * `maxOutputBytes` are refused with OUTPUT_TOO_LARGE (422), never cut short.
 */
export async function preprocessInline(data: InlineData, recipe: PreprocessRecipeInput, maxOutputBytes = maxPreprocessOutputBytes) {
  const report = await validateDataset(sourceOf(data), { schema: data.schema, maxRowErrors: 0 });
  assertValid(report);
  return preprocessToRecords(() => sourceOf(data), recipe, { schema: report.schema, maxOutputBytes });
}
