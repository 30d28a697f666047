import type { WorkflowStarter } from '../../platform/workflows.js';
import type { Page } from '../../platform/page.js';
import type { ModelRecord, ModelStatus } from './model.js';

export type ModelChanges = Partial<Pick<ModelRecord, 'status' | 'features' | 'training' | 'metrics' | 'staging' | 'artifact' | 'failure' | 'lastEvaluation'>>;
export type ClearableModelField = 'staging' | 'artifact' | 'metrics' | 'failure';

/** The port for model records; shared/aws/modelRepository.ts has the DynamoDB adapter. */
export interface ModelRepository {
  /** Throws ConflictError when the id is taken. */
  create(tenant: string, model: ModelRecord): Promise<void>;
  get(tenant: string, id: string): Promise<ModelRecord | undefined>;
  /** Newest first. */
  list(tenant: string, page: { limit: number; cursor?: string }): Promise<Page<ModelRecord>>;
  /**
   * Applies a training step's changes while `jobId` is the model's run and its status is one of
   * `allowedFrom` (a stale or duplicate step cannot overwrite a newer state); false when skipped.
   * Fields in `remove` are deleted in the same write. An evaluation sets `lastEvaluation` with the
   * evaluated version's jobId and READY as guard, so it lands only while that version is current.
   */
  update(tenant: string, id: string, changes: ModelChanges, guard: { jobId: string; allowedFrom?: readonly ModelStatus[] }, remove?: readonly ClearableModelField[]): Promise<boolean>;

  // Versions. The record above (get, list, update) is the model's current version; each
  // registered version is also kept on its own, immutable once READY.
  /** One version: its own record, or the current record when that is the version asked for. */
  getVersion(tenant: string, id: string, version: number): Promise<ModelRecord | undefined>;
  /** The versions kept on their own, newest first (a model trained once and never re-registered has none). */
  listVersions(tenant: string, id: string, page: { limit: number; cursor?: string }): Promise<Page<ModelRecord>>;
  /** Claims `model.version`; throws ConflictError when that version exists. */
  createVersion(tenant: string, model: ModelRecord): Promise<void>;
  /** Writes a version (a claimed version becoming READY; a retry writes the same record). */
  saveVersion(tenant: string, model: ModelRecord): Promise<void>;
  /** Makes `model` the current version unless a newer version already is; false when skipped. */
  promote(tenant: string, model: ModelRecord): Promise<boolean>;
}

/** The port for model objects in the models bucket; shared/aws/modelArtifacts.ts has the S3 adapter. */
export interface ModelArtifacts {
  put(key: string, body: string | Uint8Array, contentType: string): Promise<void>;
  /** The whole object, or undefined when there is none. */
  getBytes(key: string): Promise<Uint8Array | undefined>;
  /** Server-side copy; overwrites the target. */
  copy(fromKey: string, toKey: string): Promise<void>;
  /** Deletes the keys; missing keys are fine (compensations run more than once). */
  remove(keys: readonly string[]): Promise<void>;
}

/** Starts the training state machine (deterministic run names: a retried request starts nothing new). */
export type TrainingStarter = WorkflowStarter;
