import { getReadyDataset } from '../data/registry/datasets.js';
import type { DatasetObjects, DatasetRepository } from '../data/registry/datasetRepository.js';
import { readDetectionRows } from '../ml/api/detectDataset.js';
import { TelltaleError } from '../platform/errors.js';
import type { Sensor } from './sensor.js';

export interface WarmupHistoryDeps {
  datasets: Pick<DatasetRepository, 'get'>;
  objects: Pick<DatasetObjects, 'read'>;
}

/** Rows of history a detector learns from before its first live reading: its fit needs 400, more settles its tails. */
export const MAX_WARMUP_ROWS = 20_000;

export type WarmupHistory = { datasetId: string; values: number[] } | { datasetId: string; skipped: string };

/**
 * The values of a sensor's column in the READY dataset it names, oldest first (at most
 * MAX_WARMUP_ROWS): read as POST /ml/detect reads a dataset. The column is the one whose sensorId is
 * the sensor's, else the one named as the sensor. A dataset that is missing, not READY or without
 * such a column is skipped with the reason, and the detector warms up on live readings instead: a
 * wrong name must not hold the sensor's readings back.
 */
export async function warmupHistory(deps: WarmupHistoryDeps, tenant: string, sensor: Pick<Sensor, 'id' | 'warmupDatasetId'>): Promise<WarmupHistory | undefined> {
  const datasetId = sensor.warmupDatasetId;
  if (!datasetId) return undefined;
  try {
    const dataset = await getReadyDataset(deps.datasets, tenant, datasetId, 'warm up a detector');
    const columns = dataset.schema?.sensorColumns ?? [];
    const column = columns.find((c) => c.sensorId === sensor.id) ?? columns.find((c) => c.name === sensor.id);
    if (!column) return { datasetId, skipped: `dataset "${datasetId}" has no column for sensor "${sensor.id}"` };
    const rows = await readDetectionRows(await deps.objects.read(dataset.processedKey), { datasetId, schema: dataset.schema, features: [column.name] }, { maxRows: MAX_WARMUP_ROWS, truncate: true });
    return { datasetId, values: Array.from(rows.matrix.data) };
  } catch (error) {
    // Refusals (404, 409, 422) are the dataset's state; anything else (an outage) fails the batch, to be retried.
    if (error instanceof TelltaleError && error.status < 500) return { datasetId, skipped: error.message };
    throw error;
  }
}
