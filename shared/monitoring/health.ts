import { z } from 'zod';

/** A dependency to probe: a name and a call that throws when it is unhealthy. */
export interface DependencyProbe {
  name: string;
  probe: () => Promise<void>;
}

export const dependencyHealth = z.object({
  name: z.string(),
  status: z.enum(['ok', 'down']),
  latencyMs: z.number(),
  error: z.string().optional(),
});

export const healthReport = z.object({
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  stage: z.string(),
  time: z.iso.datetime(),
  dependencies: z.array(dependencyHealth).optional().describe('Present with ?deep=true'),
});
export type HealthReport = z.infer<typeof healthReport>;

const withTimeout = (promise: Promise<void>, ms: number) =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);

/**
 * Shallow health says the function runs; deep health probes every dependency in parallel,
 * each with a timeout, and is degraded when any is down.
 */
export async function checkHealth(meta: { version: string; stage: string }, probes: readonly DependencyProbe[] | null, timeoutMs = 2_000): Promise<HealthReport> {
  const base = { version: meta.version, stage: meta.stage, time: new Date().toISOString() };
  if (!probes) return { status: 'ok', ...base };
  const dependencies = await Promise.all(
    probes.map(async ({ name, probe }) => {
      const started = performance.now();
      try {
        await withTimeout(probe(), timeoutMs);
        return { name, status: 'ok' as const, latencyMs: Math.round((performance.now() - started) * 10) / 10 };
      } catch (error) {
        return { name, status: 'down' as const, latencyMs: Math.round((performance.now() - started) * 10) / 10, error: (error as Error).name || 'Error' };
      }
    }),
  );
  return { status: dependencies.every((d) => d.status === 'ok') ? 'ok' : 'degraded', ...base, dependencies };
}
