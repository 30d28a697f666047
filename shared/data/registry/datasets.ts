import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, UnprocessableError } from '../../platform/errors.js';
import type { Page } from '../../platform/page.js';
import { datasetKeys, type Dataset, type NewDataset } from './dataset.js';
import type { SensorRepository } from '../../sensors/sensorRepository.js';
import type { DatasetObjects, DatasetRepository } from './datasetRepository.js';

export interface DatasetDeps {
  datasets: DatasetRepository;
  objects: DatasetObjects;
  /** The sensor registry: sensorIds declared on columns must be in it. */
  sensors: Pick<SensorRepository, 'get'>;
}

const uploadUrlSeconds = 15 * 60;

const contentTypeOf = (file: string) => (file.endsWith('.gz') ? 'application/gzip' : file.endsWith('.csv') ? 'text/csv' : 'application/x-ndjson');

/**
 * Registers a dataset.
 * Primary course: the record is stored PENDING, then either the inline content is written under
 * raw/ (which starts the pipeline) or a presigned PUT URL for raw/ is returned.
 * Alternatives: a column declares a sensorId the tenant's registry does not have, 422; the
 * client's id is taken, 409; nothing written either way.
 */
export async function registerDataset(deps: DatasetDeps, tenant: string, input: NewDataset, now = new Date()) {
  const declared = input.schema?.sensorColumns.flatMap((c) => (c.sensorId ? [c.sensorId] : [])) ?? [];
  const unknown = (await Promise.all(declared.map(async (id) => ((await deps.sensors.get(tenant, id)) ? [] : [id])))).flat();
  if (unknown.length > 0)
    throw new UnprocessableError(
      `Columns map to sensors your registry does not have: ${unknown.map((id) => `"${id}"`).join(', ')}. Register them first (POST /api/v1/sensors), or leave sensorId out.`,
      { code: 'unknown_sensor', sensorIds: unknown },
    );
  const id = input.id ?? `ds-${randomUUID()}`;
  const keys = datasetKeys(tenant, id);
  const dataset: Dataset = {
    id,
    name: input.name,
    ...(input.description ? { description: input.description } : {}),
    ...(input.schema ? { schema: input.schema } : {}),
    status: 'PENDING',
    fileName: input.fileName,
    rawKey: keys.raw(input.fileName),
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
  await deps.datasets.create(tenant, dataset);
  if (input.content !== undefined) {
    await deps.objects.put(dataset.rawKey, input.content, contentTypeOf(input.fileName));
    return dataset;
  }
  const upload = await deps.objects.presignUpload(dataset.rawKey, uploadUrlSeconds);
  return { ...dataset, upload: { ...upload, method: 'PUT' as const, expiresAt: new Date(now.getTime() + uploadUrlSeconds * 1000).toISOString() } };
}

export async function getDataset(repository: DatasetRepository, tenant: string, id: string): Promise<Dataset> {
  const found = await repository.get(tenant, id);
  if (!found) throw new NotFoundError(`No dataset "${id}".`);
  return found;
}

export function listDatasets(repository: DatasetRepository, tenant: string, page: { limit: number; cursor?: string }): Promise<Page<Dataset>> {
  return repository.list(tenant, page);
}

/** A tenant's dataset that is READY, for work on its processed file; 404 when unknown, 409 with its status otherwise. */
export async function getReadyDataset(repository: Pick<DatasetRepository, 'get'>, tenant: string, id: string, purpose: string): Promise<Dataset & { processedKey: string }> {
  const dataset = await repository.get(tenant, id);
  if (!dataset) throw new NotFoundError(`No dataset "${id}".`);
  if (dataset.status !== 'READY' || !dataset.processedKey) {
    const why = dataset.status === 'FAILED' && dataset.failure ? ` (${dataset.failure.step}: ${dataset.failure.cause})` : '';
    throw new ConflictError(`Dataset "${id}" is ${dataset.status}${why}; ${purpose} on it once it is READY.`, { datasetStatus: dataset.status });
  }
  return dataset as Dataset & { processedKey: string };
}
