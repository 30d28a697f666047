/** Which columns of a dataset are features: training, detection and the CLI share one rule. */
import { isLabelColumnName, type DatasetSchema } from '../data/dataset-schema.js';

/** Labels are never features: the dataset's label column, and any column named like one. */
export function labelFeatures(features: readonly string[], labelColumn: string | undefined): string[] {
  return features.filter((f) => f === labelColumn || isLabelColumnName(f));
}

/** The default features of a dataset: its sensor columns, less any named like a label. */
export function defaultFeatures(schema: Pick<DatasetSchema, 'sensorColumns' | 'labelColumn'>): string[] {
  const sensors = schema.sensorColumns.map((c) => c.name);
  const labels = labelFeatures(sensors, schema.labelColumn);
  return sensors.filter((f) => !labels.includes(f));
}
