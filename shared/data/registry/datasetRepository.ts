import type { Page } from '../../platform/page.js';
import type { Dataset, DatasetStatus } from './dataset.js';

export type DatasetChanges = Partial<Pick<Dataset, 'status' | 'schema' | 'rows' | 'quality' | 'processedKey' | 'failure' | 'run'>>;

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
  /** A streaming read; memory stays bounded whatever the object's size. */
  read(key: string): Promise<AsyncIterable<Uint8Array>>;
  /** Streams `body` into the object (multipart), with bounded memory. */
  write(key: string, contentType: string, body: AsyncIterable<Uint8Array | string>): Promise<void>;
  getText(key: string): Promise<string | undefined>;
  head(key: string): Promise<{ size: number; eTag?: string } | undefined>;
  /** Bytes [start, end) of an object (fewer at its end). */
  readRange(key: string, start: number, end: number): Promise<Uint8Array>;
  /** Writes the objects `sources`, joined in order, to `target`. */
  concat(target: string, sources: readonly string[], contentType: string): Promise<void>;
  remove(keys: readonly string[]): Promise<void>;
  /** Removes every object under the prefix (idempotent). */
  removePrefix(prefix: string): Promise<void>;
  /** Removes every version and delete marker of every object under the prefix, for good (idempotent). */
  purgePrefix(prefix: string): Promise<void>;
}
