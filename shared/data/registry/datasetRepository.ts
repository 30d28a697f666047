import type { Page } from '../../platform/page.js';
import type { Dataset, DatasetStatus } from './dataset.js';

export type DatasetChanges = Partial<Pick<Dataset, 'status' | 'schema' | 'rows' | 'quality' | 'processedKey' | 'publishedRunId' | 'failure' | 'run' | 'correlationId'>>;

/** The port for dataset records; shared/aws has the DynamoDB adapter. */
export interface DatasetRepository {
  /** Throws ConflictError when the id is taken. */
  create(tenant: string, dataset: Dataset): Promise<void>;
  get(tenant: string, id: string): Promise<Dataset | undefined>;
  list(tenant: string, page: { limit: number; cursor?: string }): Promise<Page<Dataset>>;
  /**
   * Applies changes for a pipeline run. With `runId`, only while that run is still the dataset's
   * latest (a stale or duplicate run cannot overwrite a newer one); returns false when skipped.
   */
  update(tenant: string, id: string, changes: DatasetChanges, guard?: { runId?: string; allowedFrom?: readonly DatasetStatus[] }): Promise<boolean>;
  /**
   * Makes `run` the dataset's latest run with `changes`, unless a later run (by `run.order`) has
   * it already; the same run again (a retry) takes it again. False when refused or missing.
   */
  takeOver(tenant: string, id: string, run: NonNullable<Dataset['run']>, changes: DatasetChanges): Promise<boolean>;
  /** Deletes the record; false when there was none. */
  remove(tenant: string, id: string): Promise<boolean>;
  /** Attribute removal, for compensations. */
  clear(tenant: string, id: string, fields: readonly ('processedKey' | 'quality' | 'rows' | 'schema' | 'failure')[], guard?: { runId?: string }): Promise<void>;
}

/** The port for dataset objects in S3; shared/aws has the adapter. */
export interface DatasetObjects {
  /** A URL that PUTs exactly `sizeBytes` bytes to `key` (the length is signed) until it expires. */
  presignUpload(key: string, expiresInSeconds: number, sizeBytes: number): Promise<{ url: string; headers: Record<string, string> }>;
  put(key: string, body: string | Uint8Array, contentType: string): Promise<void>;
  /** A streaming read, of the version `versionId` when given; memory stays bounded whatever the object's size. */
  read(key: string, versionId?: string): Promise<AsyncIterable<Uint8Array>>;
  /** Streams `body` into the object (multipart), with bounded memory. */
  write(key: string, contentType: string, body: AsyncIterable<Uint8Array | string>): Promise<void>;
  getText(key: string): Promise<string | undefined>;
  /** Size, ETag and version (where the bucket keeps versions) of the object, or of its version `versionId`. */
  head(key: string, versionId?: string): Promise<{ size: number; eTag?: string; versionId?: string } | undefined>;
  /** Bytes [start, end) of an object, or of its version `versionId` (fewer at its end). */
  readRange(key: string, start: number, end: number, versionId?: string): Promise<Uint8Array>;
  /** Writes the objects `sources`, joined in order, to `target`. */
  concat(target: string, sources: readonly string[], contentType: string): Promise<void>;
  remove(keys: readonly string[]): Promise<void>;
  /** Removes every object under the prefix (idempotent). */
  removePrefix(prefix: string): Promise<void>;
  /** Removes every version and delete marker of every object under the prefix, for good (idempotent). */
  purgePrefix(prefix: string): Promise<void>;
}
