import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { DatasetSchema } from '../shared/data/dataset-schema.js';
import { fileName, type Dataset } from '../shared/data/registry/dataset.js';
import { apiClient, apiOptions, ApiError, unreachable, type ApiClient } from './api.js';
import { CliError, usageError } from './errors.js';
import { numberOption, optionalString, type Values } from './options.js';

export const datasetsPushOptions = {
  ...apiOptions,
  id: { type: 'string' },
  name: { type: 'string' },
  description: { type: 'string' },
  schema: { type: 'string' },
  wait: { type: 'boolean' },
  timeout: { type: 'string' },
  interval: { type: 'string' },
} as const;

export const datasetsListOptions = { ...apiOptions, limit: { type: 'string' }, cursor: { type: 'string' } } as const;
export const datasetsGetOptions = { ...apiOptions } as const;

export interface Io {
  log: (message: string) => void;
  out: (text: string) => void;
}

type Registered = Dataset & { upload?: { url: string; method: 'PUT'; headers: Record<string, string> } };

/** The file to push: it must exist and have a name the API accepts (it becomes the object name under raw/). */
function pushedFile(file: string | undefined): { file: string; name: string; size: number } {
  if (!file) throw usageError('datasets push needs a FILE');
  if (!existsSync(file) || !statSync(file).isFile()) throw new CliError(`no such file: ${file}`);
  const name = path.basename(file);
  const checked = fileName.safeParse(name);
  if (!checked.success) throw new CliError(`cannot push "${name}": ${checked.error.issues[0].message}`);
  return { file, name, size: statSync(file).size };
}

function schemaOption(values: Values): DatasetSchema | undefined {
  const file = optionalString(values, 'schema');
  if (file === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliError(`--schema ${file}: ${(error as Error).message}`);
  }
  const schema = DatasetSchema.safeParse(json);
  if (!schema.success) throw new CliError(`--schema ${file}: ${schema.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return schema.data;
}

/** Streams the file to the presigned URL: never read into memory, sent with its length (S3 refuses chunked uploads). */
async function upload(target: NonNullable<Registered['upload']>, file: { file: string; size: number }): Promise<void> {
  const origin = new URL(target.url).origin;
  let response: Response;
  try {
    response = await fetch(target.url, {
      method: target.method,
      headers: { ...target.headers, 'content-length': String(file.size) },
      body: Readable.toWeb(createReadStream(file.file)) as ReadableStream<Uint8Array>,
      duplex: 'half',
    });
  } catch (error) {
    throw unreachable(origin, error);
  }
  if (!response.ok) {
    const text = await response.text().catch(() => '');
    const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
    throw new ApiError(`upload to ${origin} failed: HTTP ${response.status}${code ? ` ${code}` : ''}`, response.status);
  }
}

function describeReady(d: Dataset): string {
  const rows = d.rows ? `, rows: ${[d.rows.raw !== undefined ? `${d.rows.raw} raw` : '', d.rows.valid !== undefined ? `${d.rows.valid} valid` : '', d.rows.processed !== undefined ? `${d.rows.processed} processed` : ''].filter(Boolean).join(', ')}` : '';
  const q = d.quality;
  const quality = q ? `; quality: ${q.errors} error(s), ${q.warnings} warning(s), ${q.infos} info(s)${q.checks.length ? ` [${q.checks.join(', ')}]` : ''}` : '';
  return `dataset "${d.id}" is READY${rows}${quality}`;
}

/** Polls the dataset until READY or FAILED, logging each status it sees. */
async function waitForPipeline(client: ApiClient, id: string, first: string, io: Io, timeoutMs: number, intervalMs: number): Promise<Dataset> {
  const until = Date.now() + timeoutMs;
  let last = first;
  for (;;) {
    const dataset = await client.call<Dataset>('GET', `/datasets/${encodeURIComponent(id)}`);
    if (dataset.status !== last) {
      io.log(`status ${dataset.status}`);
      last = dataset.status;
    }
    if (dataset.status === 'READY' || dataset.status === 'FAILED') return dataset;
    if (Date.now() >= until) throw new CliError(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for dataset "${id}" (still ${dataset.status})`);
    await sleep(intervalMs);
  }
}

/**
 * telltale datasets push FILE: registers the dataset, streams the file to its upload URL and, with
 * --wait, follows the pipeline to READY (quality summary) or FAILED (step and cause, exit 1).
 */
export async function runDatasetsPush(values: Values, positionals: readonly string[], io: Io): Promise<number> {
  if (positionals.length > 1) throw usageError(`datasets push takes one FILE, got ${positionals.length}`);
  const file = pushedFile(positionals[0]);
  const timeoutMs = (numberOption(values, 'timeout', 1, 86_400) ?? 600) * 1000;
  const intervalMs = numberOption(values, 'interval', 0.05, 60) ?? 1;
  const schema = schemaOption(values);
  const client = apiClient(values);
  const name = optionalString(values, 'name') ?? file.name.replace(/\.(csv|csv\.gz|jsonl|ndjson)$/, '');

  const registered = await client.call<Registered>('POST', '/datasets', {
    ...(values.id !== undefined ? { id: optionalString(values, 'id') } : {}),
    name,
    ...(values.description !== undefined ? { description: optionalString(values, 'description') } : {}),
    ...(schema ? { schema } : {}),
    fileName: file.name,
    // The upload URL is signed for exactly this many bytes.
    sizeBytes: file.size,
  });
  io.log(`registered dataset "${registered.id}" (${registered.status})`);
  if (!registered.upload) throw new ApiError(`the API gave no upload URL for dataset "${registered.id}"`);
  await upload(registered.upload, file);
  io.log(`uploaded ${file.name} (${file.size.toLocaleString('en')} bytes) to ${registered.rawKey}`);

  const { upload: _url, ...dataset } = registered;
  if (values.wait !== true) {
    io.out(JSON.stringify(dataset, null, 2));
    return 0;
  }
  const final = await waitForPipeline(client, registered.id, registered.status, io, timeoutMs, intervalMs * 1000);
  io.out(JSON.stringify(final, null, 2));
  if (final.status === 'FAILED') {
    io.log(`dataset "${final.id}" FAILED at step ${final.failure?.step ?? '(unknown)'}: ${final.failure?.cause ?? 'no cause recorded'}`);
    return 1;
  }
  io.log(describeReady(final));
  return 0;
}

/** telltale datasets list: one page of the tenant's datasets, as JSON. */
export async function runDatasetsList(values: Values, positionals: readonly string[], io: Io): Promise<number> {
  if (positionals.length > 0) throw usageError('datasets list takes no arguments');
  const limit = numberOption(values, 'limit', 1, 100, true);
  const cursor = optionalString(values, 'cursor');
  const query = new URLSearchParams({ ...(limit !== undefined ? { limit: String(limit) } : {}), ...(cursor ? { cursor } : {}) }).toString();
  const page = await apiClient(values).call<unknown>('GET', `/datasets${query ? `?${query}` : ''}`);
  io.out(JSON.stringify(page, null, 2));
  return 0;
}

/** telltale datasets get ID: one dataset, as JSON. */
export async function runDatasetsGet(values: Values, positionals: readonly string[], io: Io): Promise<number> {
  if (positionals.length !== 1) throw usageError('datasets get takes one ID');
  const dataset = await apiClient(values).call<Dataset>('GET', `/datasets/${encodeURIComponent(positionals[0])}`);
  io.out(JSON.stringify(dataset, null, 2));
  return 0;
}
