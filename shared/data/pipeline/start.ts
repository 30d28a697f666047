import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { WorkflowStarter } from '../../platform/workflows.js';
import { parseRawKey } from '../registry/dataset.js';
import type { DatasetRepository } from '../registry/datasetRepository.js';

/** The EventBridge event S3 sends for a new object (the fields we use). */
export const objectCreatedEvent = z.object({
  'detail-type': z.literal('Object Created'),
  source: z.literal('aws.s3'),
  detail: z.object({
    bucket: z.object({ name: z.string() }),
    object: z.object({ key: z.string(), size: z.number().optional(), etag: z.string().optional(), sequencer: z.string().optional() }),
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

/**
 * Starts the pipeline for an object dropped under datasets/<tenant>/<id>/raw/.
 * The run is named after the object and its version, so the same object arriving twice
 * starts one run, and a new upload of the same dataset starts a new one.
 */
export async function startDatasetPipeline(deps: { datasets: DatasetRepository; workflows: WorkflowStarter }, event: unknown): Promise<{ outcome: StartOutcome; runId?: string }> {
  const { detail } = objectCreatedEvent.parse(event);
  const key = decodedKey(detail.object.key);
  const parsed = parseRawKey(key);
  if (!parsed) return { outcome: 'not-a-dataset-upload' };
  if (!(await deps.datasets.get(parsed.tenant, parsed.datasetId))) return { outcome: 'unknown-dataset' };
  const version = detail.object.etag ?? detail.object.sequencer ?? '';
  const runId = `ds-${createHash('sha256').update(`${detail.bucket.name}/${key}/${version}`).digest('hex').slice(0, 48)}`;
  const outcome = await deps.workflows.start(runId, { tenant: parsed.tenant, datasetId: parsed.datasetId, key, eTag: detail.object.etag, runId });
  return { outcome, runId };
}
