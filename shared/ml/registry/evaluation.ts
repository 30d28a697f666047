/**
 * Evaluations stored with the model: the full result as JSON under the version's key prefix
 * (`models/<tenant>/<model>/<version>/evaluations/<id>.json`), and a summary, `lastEvaluation`, on
 * the model record. The id is a hash of what was evaluated, so a retried request overwrites its
 * result rather than adding another.
 */
import { createHash } from 'node:crypto';
import { modelKeys, type LastEvaluation, type ModelRecord } from './model.js';
import type { ModelArtifacts, ModelRepository } from './modelRepository.js';

export interface EvaluationSubject {
  modelId: string;
  version: number;
  datasetId: string;
  /** The rows scored: [fromRow, toRow). */
  fromRow: number;
  toRow: number;
  labelColumn: string;
}

/** `eval-` and 24 hex digits of the SHA-256 of the subject: the same subject, the same id. */
export function evaluationId(s: EvaluationSubject): string {
  const canonical = JSON.stringify([s.modelId, s.version, s.datasetId, s.fromRow, s.toRow, s.labelColumn]);
  return `eval-${createHash('sha256').update(canonical).digest('hex').slice(0, 24)}`;
}

export const evaluationKey = (tenant: string, modelId: string, version: number, id: string): string => modelKeys(tenant, modelId, version).evaluation(id);

export interface StoredEvaluation {
  key: string;
  /** Whether `lastEvaluation` was set on the model record. */
  onModel: boolean;
}

/**
 * Writes the result (any JSON) to the models bucket, then the summary on the model record. The
 * record is updated only while the version evaluated is the model's current, READY version (guarded
 * by that version's jobId), so an evaluation of an older version never labels a newer one.
 */
export async function storeEvaluation(
  deps: { models: Pick<ModelRepository, 'getVersion' | 'update'>; artifacts: Pick<ModelArtifacts, 'put'> },
  tenant: string,
  subject: Pick<EvaluationSubject, 'modelId' | 'version'>,
  summary: LastEvaluation,
  result: unknown,
): Promise<StoredEvaluation> {
  const key = evaluationKey(tenant, subject.modelId, subject.version, summary.id);
  await deps.artifacts.put(key, JSON.stringify(result), 'application/json');
  const record: ModelRecord | undefined = await deps.models.getVersion(tenant, subject.modelId, subject.version);
  const onModel = record ? await deps.models.update(tenant, subject.modelId, { lastEvaluation: summary }, { jobId: record.jobId, allowedFrom: ['READY'] }) : false;
  return { key, onModel };
}
