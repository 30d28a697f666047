import { readFileSync } from 'node:fs';
import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import { z } from 'zod';
import { opsDashboardName } from '../shared/monitoring/dashboards.js';
import type { FunctionSettings } from './constructs/telltaleFunction.js';
import { repositoryRoot } from './constructs/telltaleFunction.js';

const list = z
  .union([z.array(z.string()), z.string()])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));

const flag = z.union([z.boolean(), z.stringbool()]);

/**
 * Deployment options, from CDK context (`-c stage=prod`) or the environment (`TELLTALE_STAGE=prod`),
 * checked once. Context wins over the environment.
 */
export const telltaleConfig = z.object({
  stage: z.string().regex(/^[a-z][a-z0-9-]{0,15}$/, 'lower-case letters, digits and dashes, 16 at most').default('dev'),
  /** Deploy for LocalStack: leaves out what its Community edition cannot run (Cognito user pools, HTTP APIs). */
  localstack: flag.default(false),
  /** Where readings are kept. Timestream for LiveAnalytics takes no new customers, so DynamoDB is the default. */
  readingsStore: z.enum(['dynamodb', 'timestream']).default('dynamodb'),
  /** Days readings are kept after their time bucket ends (DynamoDB TTL, or Timestream's magnetic store); 0 keeps them. Default 365. */
  readingsRetentionDays: z.coerce.number().int().min(0).max(36_500).default(365),
  /** Origins allowed by CORS; none means no CORS preflight and no CORS headers. */
  corsOrigins: list.default([]),
  /** Tenant of the client-credentials app client created for demos and operations. */
  demoTenant: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/).default('demo'),
  /** Cognito domain prefix (globally unique in a region); defaults to telltale-<stage>-<account>. */
  authDomainPrefix: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/).optional(),
  /** Where the hosted sign-in may send users back to (authorization code flow of the operators' client). */
  callbackUrls: list.default(['http://localhost:8080/callback']),
  /** Stage-wide throttling, requests per second and burst. */
  rateLimit: z.coerce.number().int().positive().default(500),
  burstLimit: z.coerce.number().int().positive().default(1000),
  /** Dataset files over this many MiB are cut into chunks and processed by a Distributed Map (default 512). */
  datasetSplitMb: z.coerce.number().int().positive().optional(),
  /** About this many MiB per chunk (default 128). */
  datasetChunkMb: z.coerce.number().int().positive().optional(),
  /**
   * Chunks of a large dataset processed at once (the Distributed Map's MaxConcurrency), each one
   * Lambda invocation drawn from the account's concurrency, which the API shares: keep it well
   * under what `aws lambda get-account-settings` reports (a new account may have only 10).
   */
  datasetMapConcurrency: z.coerce.number().int().min(1).max(1000).optional(),
  /** The largest file, in MiB, a tenant may declare for an upload URL (default 5120, S3's single PUT maximum). */
  datasetMaxUploadMb: z.coerce.number().int().positive().max(5120).optional(),
  /** Other upload limits for some tenants: `tenant=bytes` pairs, comma-separated. */
  datasetTenantMaxUploadBytes: z.string().optional(),
  /** An address subscribed to the ops topic, where every CloudWatch alarm of the stage goes (stacks/constructs/operations.ts). */
  opsEmail: z.email().optional(),
});
export type TelltaleConfig = z.infer<typeof telltaleConfig> & { prod: boolean; serviceVersion: string; tenantClaim: string };

const keys = Object.keys(telltaleConfig.shape) as (keyof typeof telltaleConfig.shape)[];
const envName = (key: string) => `TELLTALE_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

/** Reads the options from a construct tree's context, falling back to TELLTALE_* environment variables. */
export function configFrom(node: Node, env: NodeJS.ProcessEnv = process.env): TelltaleConfig {
  const raw = Object.fromEntries(keys.map((key) => [key, node.tryGetContext(key) ?? env[envName(key)]]).filter(([, v]) => v !== undefined));
  const parsed = telltaleConfig.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${String(i.path[0])} (context ${String(i.path[0])} or ${envName(String(i.path[0]))}): ${i.message}`);
    throw new Error(`Invalid Telltale deployment options: ${problems.join('; ')}`);
  }
  const config = parsed.data;
  const { version } = JSON.parse(readFileSync(`${repositoryRoot}package.json`, 'utf8')) as { version: string };
  // LocalStack Community runs no Timestream.
  const readingsStore = config.localstack ? 'dynamodb' : config.readingsStore;
  return { ...config, readingsStore, prod: config.stage === 'prod', serviceVersion: version, tenantClaim: 'tenant' };
}

/** What every function of a deployment shares. */
export const functionSettings = (config: TelltaleConfig): FunctionSettings => ({
  stage: config.stage,
  serviceVersion: config.serviceVersion,
  tenantClaim: config.tenantClaim,
  logRetention: config.prod ? RetentionDays.SIX_MONTHS : RetentionDays.TWO_WEEKS,
  removalPolicy: removalPolicyOf(config),
  environment: {
    READINGS_STORE: config.readingsStore,
    // GET /monitoring/dashboards links the operators' CloudWatch dashboard (stacks/constructs/operations.ts).
    OPS_DASHBOARD_NAME: opsDashboardName(config.stage),
    READINGS_RETENTION_DAYS: String(config.readingsRetentionDays),
    ...(config.corsOrigins.length > 0 ? { CORS_ORIGINS: config.corsOrigins.join(',') } : {}),
    ...(config.datasetSplitMb ? { DATASET_SPLIT_BYTES: String(config.datasetSplitMb * 1024 * 1024) } : {}),
    ...(config.datasetChunkMb ? { DATASET_CHUNK_BYTES: String(config.datasetChunkMb * 1024 * 1024) } : {}),
    ...(config.datasetMaxUploadMb ? { DATASET_MAX_UPLOAD_BYTES: String(config.datasetMaxUploadMb * 1024 * 1024) } : {}),
    ...(config.datasetTenantMaxUploadBytes ? { DATASET_TENANT_MAX_UPLOAD_BYTES: config.datasetTenantMaxUploadBytes } : {}),
    // LocalStack gives functions AWS_ENDPOINT_URL; S3 there wants path-style URLs, and there is no X-Ray daemon.
    ...(config.localstack ? { S3_FORCE_PATH_STYLE: 'true', POWERTOOLS_TRACE_ENABLED: 'false' } : {}),
  },
});

/** Production keeps its data when a stack is deleted; other stages clean up after themselves. */
export const removalPolicyOf = (config: TelltaleConfig) => (config.prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
