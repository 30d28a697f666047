import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../../platform/errors.js';
import type { WorkflowStarter } from '../../platform/workflows.js';
import { parseRawKey, type Dataset } from '../registry/dataset.js';
import type { DatasetObjects, DatasetRepository } from '../registry/datasetRepository.js';
import { rerunOrder, uploadOrder, type PipelineInput } from './context.js';

/** The EventBridge event S3 sends for a new object (the fields we use). */
export const objectCreatedEvent = z.object({
  'detail-type': z.literal('Object Created'),
  source: z.literal('aws.s3'),
  time: z.string().optional(),
  detail: z.object({
    bucket: z.object({ name: z.string() }),
    object: z.object({
      key: z.string(),
      size: z.number().optional(),
      etag: z.string().optional(),
      /** Set when the bucket keeps versions (ours does): each upload of a key is a version of its own. */
      'version-id': z.string().optional(),
      sequencer: z.string().optional(),
    }),
  }),
});

/** S3 notifications URL-encode keys; a key that does not decode is not one of our uploads anyway. */
function decodedKey(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key;
  }
}

export type StartOutcome = 'started' | 'duplicate' | 'not-a-dataset-upload' | 'unknown-dataset';

const runName = (seed: string) => `ds-${createHash('sha256').update(seed).digest('hex').slice(0, 48)}`;

/**
 * Starts the pipeline for an object dropped under datasets/<tenant>/<id>/raw/.
 * The run is named after the object's version (the ETag where a bucket keeps none), so the
 * same upload arriving twice starts one run, while every new upload starts a new one, the same
 * bytes again included: Step Functions refuses the name of a closed execution for 90 days,
 * which must not stop a failed upload from being retried.
 */
export async function startDatasetPipeline(deps: { datasets: DatasetRepository; workflows: WorkflowStarter }, event: unknown): Promise<{ outcome: StartOutcome; runId?: string }> {
  const parsed = objectCreatedEvent.parse(event);
  const { bucket, object } = parsed.detail;
  const key = decodedKey(object.key);
  const target = parseRawKey(key);
  if (!target) return { outcome: 'not-a-dataset-upload' };
  const dataset = await deps.datasets.get(target.tenant, target.datasetId);
  if (!dataset) return { outcome: 'unknown-dataset' };
  const version = object['version-id'] ?? object.etag ?? object.sequencer ?? '';
  const runId = runName(`${bucket.name}/${key}/${version}`);
  const input: PipelineInput = {
    tenant: target.tenant,
    datasetId: target.datasetId,
    key,
    ...(object.etag ? { eTag: object.etag } : {}),
    versionId: object['version-id'] ?? null,
    order: uploadOrder(parsed.time ?? new Date(), object.sequencer),
    runId,
    // S3's event carries no request id: the upload's is the one that registered the dataset.
    ...(dataset.correlationId ? { correlationId: dataset.correlationId } : {}),
  };
  const outcome = await deps.workflows.start(runId, input);
  return { outcome, runId };
}

const running: readonly Dataset['status'][] = ['VALIDATING', 'PREPROCESSING', 'PROFILING'];
/** A run still "in progress" after this long has stopped without a word (stopped by hand, its failure step failed): it may be re-run. */
const stuckAfterMs = 24 * 60 * 60 * 1000;

const runInProgress = (dataset: Dataset, now: Date) => running.includes(dataset.status) && now.getTime() - Date.parse(dataset.run?.startedAt ?? dataset.updatedAt) < stuckAfterMs;

/**
 * Runs the pipeline again on the dataset's current raw object (POST /datasets/{id}/runs): after a
 * failure whose cause is gone, or to pick up new sensor ranges.
 * Primary course: a new run, with a name of its own, starts on the raw object's current version
 * (a dataset left PENDING by a start that failed included).
 * Alternatives: no such dataset, 404; a run in progress (unless it has been stuck for a day), 409;
 * no raw file yet, 409.
 */
export async function rerunDatasetPipeline(
  deps: { datasets: Pick<DatasetRepository, 'get'>; objects: Pick<DatasetObjects, 'head'>; workflows: WorkflowStarter },
  tenant: string,
  datasetId: string,
  now = new Date(),
  correlationId?: string,
): Promise<{ runId: string; datasetId: string; status: 'started' }> {
  const dataset = await deps.datasets.get(tenant, datasetId);
  if (!dataset) throw new NotFoundError(`No dataset "${datasetId}".`);
  if (runInProgress(dataset, now)) {
    throw new ConflictError(`Dataset "${datasetId}" has a run in progress (${dataset.status}); re-run it once it is READY or FAILED.`, { datasetStatus: dataset.status });
  }
  const head = await deps.objects.head(dataset.rawKey);
  if (!head) throw new ConflictError(`Dataset "${datasetId}" has no file yet; upload it to ${dataset.rawKey.split('/').pop()} first.`, { datasetStatus: dataset.status });
  const runId = runName(`${tenant}/${datasetId}/rerun/${randomUUID()}`);
  const input: PipelineInput = {
    tenant,
    datasetId,
    key: dataset.rawKey,
    ...(head.eTag ? { eTag: head.eTag } : {}),
    // Pinned where the bucket keeps versions; the local cloud's s3rver keeps none.
    versionId: head.versionId ?? null,
    order: rerunOrder(now, dataset.run?.order),
    runId,
    ...(correlationId ? { correlationId } : {}),
  };
  await deps.workflows.start(runId, input);
  return { runId, datasetId, status: 'started' };
}
