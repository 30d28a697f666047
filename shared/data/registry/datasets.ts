import { createHash, randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, PayloadTooLargeError } from '../../platform/errors.js';
import type { Page } from '../../platform/page.js';
import { datasetKeys, type Dataset, type DatasetStatus, type NewDataset, type Upload } from './dataset.js';
import type { SensorRepository } from '../../sensors/sensorRepository.js';
import type { DatasetObjects, DatasetRepository } from './datasetRepository.js';
import { assertKnownSensors } from './knownSensors.js';
import { maxUploadBytesOf, type UploadLimits } from './uploadLimits.js';

export interface DatasetDeps {
  datasets: DatasetRepository;
  objects: DatasetObjects;
  /** The sensor registry: sensorIds declared on columns must be in it. */
  sensors: Pick<SensorRepository, 'get'>;
  limits: UploadLimits;
}

const uploadUrlSeconds = 15 * 60;

/** Statuses in which a pipeline run is working on the raw file. */
const runningStatuses: readonly DatasetStatus[] = ['VALIDATING', 'PREPROCESSING', 'PROFILING'];

const contentTypeOf = (file: string) => (file.endsWith('.gz') ? 'application/gzip' : file.endsWith('.csv') ? 'text/csv' : 'application/x-ndjson');

/** sha256 of what a registration declares (the content by its own hash; the size of an upload is not part of it). */
function digestOf(input: NewDataset): string {
  const { id: _id, sizeBytes: _size, content, ...declared } = input;
  const contentDigest = content === undefined ? null : createHash('sha256').update(content).digest('hex');
  return createHash('sha256').update(JSON.stringify({ ...declared, content: contentDigest })).digest('hex');
}

/** A declared upload size over the tenant's limit is a 413. */
function assertUploadSize(limits: UploadLimits, tenant: string, sizeBytes: number): void {
  const maxBytes = maxUploadBytesOf(limits, tenant);
  if (sizeBytes > maxBytes) throw new PayloadTooLargeError(`The file is ${sizeBytes} bytes; uploads may be at most ${maxBytes} bytes.`, { maxBytes });
}

/** A presigned PUT for the dataset's raw file, of exactly `sizeBytes` within the tenant's limit. */
async function presignedUpload(deps: Pick<DatasetDeps, 'objects' | 'limits'>, tenant: string, rawKey: string, sizeBytes: number, now: Date): Promise<Upload> {
  assertUploadSize(deps.limits, tenant, sizeBytes);
  const signed = await deps.objects.presignUpload(rawKey, uploadUrlSeconds, sizeBytes);
  return { ...signed, method: 'PUT', sizeBytes, expiresAt: new Date(now.getTime() + uploadUrlSeconds * 1000).toISOString() };
}

/**
 * Registers a dataset.
 * Primary course: the record is stored PENDING, then either the inline content is written under
 * raw/ (which starts the pipeline) or, for a declared `sizeBytes`, a presigned PUT URL for raw/ is
 * returned (without one, POST /datasets/{id}/upload gives it later).
 * Alternatives: a column declares a sensorId the tenant's registry does not have, 422; a declared
 * size over the tenant's limit, 413; nothing written either way. The client's id is taken: by the
 * same inline request (a retry after a lost answer or a failed write), the dataset is answered again
 * (`replayed`), its file written if the first attempt did not; otherwise, 409.
 */
export async function registerDataset(deps: DatasetDeps, tenant: string, input: NewDataset, now = new Date(), correlationId?: string): Promise<{ dataset: Dataset & { upload?: Upload }; replayed: boolean }> {
  await assertKnownSensors(deps.sensors, tenant, input.schema);
  if (input.sizeBytes !== undefined) assertUploadSize(deps.limits, tenant, input.sizeBytes);
  const id = input.id ?? `ds-${randomUUID()}`;
  const keys = datasetKeys(tenant, id);
  const requestDigest = digestOf(input);
  const fresh: Dataset = {
    id,
    name: input.name,
    ...(input.description ? { description: input.description } : {}),
    ...(input.schema ? { schema: input.schema } : {}),
    status: 'PENDING',
    fileName: input.fileName,
    rawKey: keys.raw(input.fileName),
    requestDigest,
    ...(correlationId ? { correlationId } : {}),
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
  let dataset = fresh;
  let replayed = false;
  try {
    await deps.datasets.create(tenant, fresh);
  } catch (error) {
    // Only an inline register can be replayed: a repeated upload registration would mean a second upload (409; ask POST /datasets/{id}/upload).
    const existing = error instanceof ConflictError && input.content !== undefined ? await deps.datasets.get(tenant, id) : undefined;
    if (existing?.requestDigest !== requestDigest) throw error;
    dataset = existing;
    replayed = true;
  }
  if (input.content !== undefined) {
    // A retry writes the file only when the first attempt did not: the same bytes again would start a second run.
    if (!replayed || !(await deps.objects.head(dataset.rawKey))) await deps.objects.put(dataset.rawKey, input.content, contentTypeOf(input.fileName));
    return { dataset, replayed };
  }
  if (input.sizeBytes === undefined) return { dataset, replayed };
  return { dataset: { ...dataset, upload: await presignedUpload(deps, tenant, dataset.rawKey, input.sizeBytes, now) }, replayed };
}

/**
 * A fresh upload URL for a dataset's raw file: a new file (a new object version) starts a new run.
 * Alternatives: unknown (or another tenant's) dataset, 404; a run working on the file, 409; a size
 * over the tenant's limit, 413.
 */
export async function requestUpload(deps: Pick<DatasetDeps, 'datasets' | 'objects' | 'limits'>, tenant: string, id: string, sizeBytes: number, now = new Date(), correlationId?: string) {
  const dataset = await getDataset(deps.datasets, tenant, id);
  if (runningStatuses.includes(dataset.status))
    throw new ConflictError(`Dataset "${id}" is ${dataset.status}: a run is working on its file; ask again once it is READY or FAILED.`, { datasetStatus: dataset.status });
  // The next upload is this request's: the run it starts carries its id.
  if (correlationId) await deps.datasets.update(tenant, id, { correlationId });
  return { id: dataset.id, rawKey: dataset.rawKey, upload: await presignedUpload(deps, tenant, dataset.rawKey, sizeBytes, now) };
}

/**
 * Deletes a dataset: every version of every object under its root and its runs' scratch space,
 * then its record. Objects go first, so a failure half way leaves the record for a retry to find;
 * once the record is gone, the dataset is unknown (404). Allowed in any status: a stuck run is
 * what a user deletes to start over.
 */
export async function deleteDataset(deps: Pick<DatasetDeps, 'datasets' | 'objects'>, tenant: string, id: string): Promise<void> {
  await getDataset(deps.datasets, tenant, id);
  const keys = datasetKeys(tenant, id);
  await deps.objects.purgePrefix(`${keys.root}/`);
  await deps.objects.purgePrefix(keys.scratch);
  if (!(await deps.datasets.remove(tenant, id))) throw new NotFoundError(`No dataset "${id}".`);
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
