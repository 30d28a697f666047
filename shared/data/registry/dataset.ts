import { z } from 'zod';
import { resourceId } from '../../platform/ids.js';
import { buckets } from '../../platform/resources.js';
import { DatasetSchema } from '../dataset-schema.js';

export const datasetStatuses = ['PENDING', 'VALIDATING', 'PREPROCESSING', 'PROFILING', 'READY', 'FAILED'] as const;
export type DatasetStatus = (typeof datasetStatuses)[number];

/** Inline uploads are for small files; larger ones go through the presigned URL. */
export const maxInlineBytes = 5 * 1024 * 1024;

export const fileName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*\.(csv|csv\.gz|jsonl|ndjson)$/, 'A plain file name ending in .csv, .csv.gz, .jsonl or .ndjson');

export const newDataset = z.strictObject({
  id: resourceId.optional().describe('Chosen by the client to make retries safe (409 if taken); generated when absent'),
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).optional(),
  schema: DatasetSchema.optional().describe('What the columns mean; inferred from the file when absent'),
  fileName: fileName.default('data.csv').describe('Name of the raw file under raw/'),
  content: z
    .string()
    .max(maxInlineBytes)
    .optional()
    .describe('The file itself, for small files (CSV or JSON Lines text). Without it, upload to the returned URL.'),
  sizeBytes: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Size in bytes of the file you will PUT, without `content`: the upload URL accepts exactly this many bytes. Without it no URL is returned; ask POST /datasets/{id}/upload for one.'),
});
export type NewDataset = z.infer<typeof newDataset>;

/** What a client asks for a fresh upload URL with. */
export const uploadRequest = z.strictObject({
  sizeBytes: z.number().int().positive().describe('Size in bytes of the file you will PUT: the URL accepts exactly this many'),
});

export const upload = z
  .object({
    url: z.string(),
    method: z.literal('PUT'),
    expiresAt: z.iso.datetime(),
    sizeBytes: z.number().int().describe('The only body size the URL accepts'),
    headers: z.record(z.string(), z.string()).describe('Headers to send with the PUT (a browser sets content-length itself)'),
  })
  .describe('Where to PUT the file when it was not sent inline');
export type Upload = z.infer<typeof upload>;

export const pipelineFailure = z.object({
  step: z.string().describe('The pipeline step that failed'),
  cause: z.string().describe('Why, in words a person can act on'),
  at: z.iso.datetime(),
});

export const qualitySummary = z.object({
  errors: z.number().int(),
  warnings: z.number().int(),
  infos: z.number().int(),
  checks: z.array(z.string()).describe('Ids of the checks that found something'),
});

export const dataset = z.object({
  id: resourceId,
  name: z.string(),
  description: z.string().optional(),
  status: z.enum(datasetStatuses),
  schema: DatasetSchema.optional(),
  fileName: z.string(),
  rawKey: z.string().describe('S3 key of the raw file'),
  processedKey: z.string().optional(),
  rows: z.object({ raw: z.number().int().optional(), valid: z.number().int().optional(), processed: z.number().int().optional() }).optional(),
  quality: qualitySummary.optional(),
  run: z
    .object({
      id: z.string(),
      startedAt: z.iso.datetime(),
      objectETag: z.string().optional(),
      objectVersion: z.string().optional().describe('Version of the raw object the run reads'),
      order: z.string().optional().describe('When the run was asked for (upload time, then S3 sequencer): a run never takes the dataset over from a later one'),
      correlationId: z.string().optional().describe('Correlation id of the request that led to the run (the registration of an upload, or the re-run); its steps log it and its events carry it'),
    })
    .optional()
    .describe('The latest pipeline run'),
  publishedRunId: z.string().optional().describe('The run whose outputs (processed file, reports) are current; switched when a run publishes'),
  failure: pipelineFailure.optional(),
  correlationId: z.string().optional().describe('Correlation id of the request that registered the dataset or asked for its latest upload URL: the run of that upload carries it'),
  requestDigest: z.string().optional().describe('sha256 of the registering request: a retry with the same body gets this dataset back, another body a 409'),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Dataset = z.infer<typeof dataset>;

export const registeredDataset = dataset.extend({ upload: upload.optional() });

export const uploadTarget = z.object({ id: resourceId, rawKey: z.string(), upload });

/** Where a dataset's objects live. The pipeline starts on objects under raw/. */
export const datasetKeys = (tenant: string, id: string) => {
  const root = `datasets/${tenant}/${id}`;
  /** Every run's scratch space of this dataset. */
  const scratch = `${buckets.datasets.scratch.prefix}${tenant}/${id}/`;
  return {
    root,
    scratch,
    raw: (file: string) => `${root}/raw/${file}`,
    /**
     * What one run writes, under its own prefix: two runs of a dataset never write (or undo) the
     * same object, and the dataset record's `publishedRunId` says whose outputs are current.
     */
    run: (runId: string) => {
      const prefix = `${root}/runs/${runId}/`;
      return {
        prefix,
        processed: `${prefix}processed/data.csv`,
        validation: `${prefix}reports/validation.json`,
        quality: `${prefix}reports/quality.json`,
        /** The schema Validate settled on, with the registry's ranges: kept here, not in the state machine's 256 KiB state. */
        schema: `${prefix}schema.json`,
      };
    },
    /**
     * Scratch space of one run's chunks (a Distributed Map over a large file), removed when the run
     * ends. It lives under the bucket's scratch prefix, outside the dataset's root, so that one
     * lifecycle rule expires what a run stopped by hand left behind.
     */
    work: (runId: string) => {
      const prefix = `${scratch}${runId}/`;
      const chunk = (index: number) => `${prefix}chunk-${String(index).padStart(5, '0')}`;
      return {
        prefix,
        /** What every chunk reads its bytes with (the schema among it), kept out of the state. */
        layout: `${prefix}layout.json`,
        validation: (index: number) => `${chunk(index)}.validation.json`,
        profile: (index: number) => `${chunk(index)}.profile.json`,
        preprocess: (index: number) => `${chunk(index)}.preprocess.json`,
        processed: (index: number) => `${chunk(index)}.csv`,
      };
    },
  };
};

/** Parses a raw-object key back into its tenant and dataset; anything else is not a dataset drop. */
export function parseRawKey(key: string): { tenant: string; datasetId: string; file: string } | undefined {
  const m = /^datasets\/([a-z0-9][a-z0-9-]{1,62})\/([A-Za-z0-9][A-Za-z0-9_.-]{0,127})\/raw\/([^/]+)$/.exec(key);
  if (!m || m[2].includes('..')) return undefined;
  return { tenant: m[1], datasetId: m[2], file: m[3] };
}
