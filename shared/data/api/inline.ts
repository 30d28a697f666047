import type { ByteSource } from '../byte-source.js';
import { sourceFromRecords, sourceFromText } from '../byte-source.js';
import type { DatasetSchema } from '../dataset-schema.js';
import { DataValidationError } from '../errors.js';
import { preprocessToRecords } from '../preprocess-dataset.js';
import type { PreprocessRecipeInput } from '../preprocess-recipe.js';
import { validateDataset } from '../validate-dataset.js';

export interface InlineData {
  records?: Record<string, unknown>[];
  csv?: string;
  schema?: DatasetSchema;
}

const sourceOf = (data: InlineData): ByteSource => (data.csv !== undefined ? sourceFromText(data.csv) : sourceFromRecords(data.records ?? []));

/** Validates inline data; fatal problems are a 422 that lists them, the rest is the report. */
export async function validateInline(data: InlineData, maxRowErrors: number) {
  const report = await validateDataset(sourceOf(data), { schema: data.schema, maxRowErrors });
  if (!report.valid) throw new DataValidationError(report.fatalErrors);
  return report;
}

/** Validates, then preprocesses inline data with the recipe, returning records. */
export async function preprocessInline(data: InlineData, recipe: PreprocessRecipeInput) {
  const report = await validateDataset(sourceOf(data), { schema: data.schema, maxRowErrors: 0 });
  if (!report.valid) throw new DataValidationError(report.fatalErrors);
  return preprocessToRecords(() => sourceOf(data), recipe, { schema: report.schema });
}
