import { z } from 'zod';
import type { BucketName, TableName } from '../platform/resources.js';

/** What the deep health check probes: one table and one bucket stand for DynamoDB and S3. */
export const probedResources = { table: 'sensors', bucket: 'datasets' } as const satisfies { table: TableName; bucket: BucketName };

/** A dependency to probe: a public name, the physical resource behind it, and a call that throws when it is unhealthy. */
export interface DependencyProbe {
  /** `<service>:<logical name>`, e.g. `dynamodb:sensors`: says what is down without naming the deployment's resources. */
  name: string;
  /** The physical name, for operators only. */
  resource: string;
  probe: () => Promise<void>;
}

export const dependencyHealth = z.object({
  name: z.string().describe('Service and logical name, e.g. dynamodb:sensors'),
  status: z.enum(['ok', 'down']),
  latencyMs: z.number(),
});

export const dependencyDetail = dependencyHealth.extend({
  resource: z.string().describe('Physical name of the probed resource'),
  error: z.string().optional().describe('Name of the error the probe met'),
});
export type DependencyDetail = z.infer<typeof dependencyDetail>;

const reportBase = z.object({
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  stage: z.string(),
  time: z.iso.datetime(),
});

/** The public answer: statuses and latencies, never a physical name or an error. */
export const healthReport = reportBase.extend({
  dependencies: z.array(dependencyHealth).optional().describe('Present with ?deep=true'),
});
export type HealthReport = z.infer<typeof healthReport>;

/** The operators' answer (admin scope): each dependency with its physical resource and error. */
export const dependencyReport = reportBase.extend({ dependencies: z.array(dependencyDetail) });
export type DependencyReport = z.infer<typeof dependencyReport>;

const withTimeout = (promise: Promise<void>, ms: number) =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);

const elapsedSince = (started: number) => Math.round((performance.now() - started) * 10) / 10;

/** Probes every dependency in parallel, each with a timeout; degraded when any is down. */
export async function checkDependencies(meta: { version: string; stage: string }, probes: readonly DependencyProbe[], timeoutMs = 2_000): Promise<DependencyReport> {
  const dependencies = await Promise.all(
    probes.map(async ({ name, resource, probe }): Promise<DependencyDetail> => {
      const started = performance.now();
      try {
        await withTimeout(probe(), timeoutMs);
        return { name, resource, status: 'ok', latencyMs: elapsedSince(started) };
      } catch (error) {
        return { name, resource, status: 'down', latencyMs: elapsedSince(started), error: (error as Error).name || 'Error' };
      }
    }),
  );
  return { status: dependencies.every((d) => d.status === 'ok') ? 'ok' : 'degraded', version: meta.version, stage: meta.stage, time: new Date().toISOString(), dependencies };
}

/**
 * The public health check. Shallow health says the function runs; deep health probes the
 * dependencies and answers their statuses and latencies only.
 */
export async function checkHealth(meta: { version: string; stage: string }, probes: readonly DependencyProbe[] | null, timeoutMs = 2_000): Promise<HealthReport> {
  if (!probes) return { status: 'ok', version: meta.version, stage: meta.stage, time: new Date().toISOString() };
  const report = await checkDependencies(meta, probes, timeoutMs);
  return { ...report, dependencies: report.dependencies.map(({ name, status, latencyMs }) => ({ name, status, latencyMs })) };
}
