import { AsyncLocalStorage } from 'node:async_hooks';
import { z } from 'zod';

type Environment = Record<string, string | undefined>;

/**
 * The environment of the function that runs: on Lambda, process.env. The local cloud runs every
 * function in one process, so it sets each function's own variables in this scope around its load
 * and its invocations; reading a variable the function is not given then fails there as on AWS.
 * Kept on globalThis: a bundle loaded locally carries its own copy of this module.
 */
const scopes = globalThis as unknown as Record<symbol, AsyncLocalStorage<Environment> | undefined>;
const scoped = (scopes[Symbol.for('telltale.functionEnv')] ??= new AsyncLocalStorage<Environment>());

/** The running function's environment: its scope over process.env (which holds what every function shares). */
export function functionEnv(): Environment {
  const own = scoped.getStore();
  return own ? { ...process.env, ...own } : process.env;
}

/** Runs `run` (a module load, an invocation) as the function whose environment is `env`. */
export const withFunctionEnv = <T>(env: Environment, run: () => T): T => scoped.run(env, run);

/**
 * Configuration is read from the environment once, at cold start, and checked with zod so a
 * misconfigured function fails at load with a clear message instead of at the first request.
 */
export function readConfig<S extends z.ZodType>(schema: S, env: Environment = functionEnv()): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  return parsed.data;
}

/** Settings every function shares. */
export const platformEnv = z.object({
  SERVICE_VERSION: z.string().default('0.1.0'),
  STAGE: z.string().default('local'),
  /** Name of the JWT claim that carries the tenant id. */
  TENANT_CLAIM: z.string().default('tenant'),
  /** Largest JSON body accepted by API functions, in bytes (API Gateway's own limit is 10 MB). */
  MAX_BODY_BYTES: z.coerce.number().int().positive().default(1_048_576),
  /** Comma-separated origins allowed by CORS; empty means CORS headers are not sent. */
  CORS_ORIGINS: z.string().default(''),
});
export type PlatformConfig = z.infer<typeof platformEnv>;

let cached: PlatformConfig | undefined;
export function platformConfig(): PlatformConfig {
  cached ??= readConfig(platformEnv);
  return cached;
}

/** The environment variable that carries a bound resource's physical name. */
export const envNameOf = (kind: 'TABLE' | 'BUCKET' | 'QUEUE' | 'BUS' | 'STATE_MACHINE', name: string): string =>
  `${kind}_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

/** The physical name of a bound resource, failing fast when the binding is missing. */
export function boundName(kind: Parameters<typeof envNameOf>[0], name: string, env: Environment = functionEnv()): string {
  const key = envNameOf(kind, name);
  const value = env[key];
  if (!value) throw new Error(`Invalid configuration: ${key} is not set (is ${kind.toLowerCase()} ${name} bound to this function?)`);
  return value;
}
