import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { FunctionDeclaration } from '../shared/catalog.js';
import { withFunctionEnv } from '../shared/platform/config.js';

/** A Lambda handler as the runtime calls it. */
export type LambdaHandler = (event: never, context: Context) => Promise<unknown>;

/** What the local runtime needs to know of a function: the catalog's declaration or a test's. */
export type FunctionSpec = Pick<FunctionDeclaration, 'name' | 'memoryMb' | 'timeoutSeconds'>;

export interface LocalFunction {
  spec: FunctionSpec;
  handler: LambdaHandler;
}

export const localAccount = '000000000000';
export const localRegion = 'us-east-1';

export class LambdaTimeoutError extends Error {
  constructor(name: string, seconds: number) {
    super(`Task timed out after ${seconds.toFixed(2)} seconds (function ${name})`);
    this.name = 'LambdaTimeoutError';
  }
}

/** A Lambda Context like the Node.js runtime's, with the function's memory and deadline. */
export function lambdaContext(spec: FunctionSpec, requestId: string = crypto.randomUUID()): Context {
  const deadline = Date.now() + spec.timeoutSeconds * 1000;
  const unsupported = () => {
    throw new Error('The callback-style context methods are not supported; return a promise.');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: spec.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${localRegion}:${localAccount}:function:${spec.name}`,
    memoryLimitInMB: String(spec.memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${spec.name}`,
    logStreamName: `local/[$LATEST]${requestId.replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

/**
 * A function's error as Step Functions' LambdaInvoke reports it: `Error` is the errorType (the
 * error's name) and `Cause` the runtime's JSON of errorType, errorMessage and trace. The local state
 * machine takes the thrown error's name and message as Error and Cause.
 */
export function asLambdaInvokeFailure(error: unknown): Error {
  const thrown = error instanceof Error ? error : new Error(String(error));
  const failure = new Error(JSON.stringify({ errorType: thrown.name, errorMessage: thrown.message, trace: thrown.stack?.split('\n') ?? [] }));
  failure.name = thrown.name;
  return failure;
}

/** Calls a function in process with its timeout, as the Lambda runtime would. */
export async function invokeFunction(fn: LocalFunction, event: unknown, requestId?: string): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LambdaTimeoutError(fn.spec.name, fn.spec.timeoutSeconds)), fn.spec.timeoutSeconds * 1000);
  });
  try {
    return await Promise.race([fn.handler(event as never, lambdaContext(fn.spec, requestId)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

let loads: Promise<unknown> = Promise.resolve();
/**
 * Module loads one after the other: two imports in flight that share a module can evaluate each
 * other's modules, in the other function's environment scope.
 */
function oneAtATime<T>(load: () => Promise<T>): Promise<T> {
  const next = loads.then(load);
  loads = next.catch(() => undefined);
  return next;
}

export interface CatalogFunctionOptions {
  /** A function's own environment, as its stack deploys it; set around its load and each invocation. */
  environmentOf(declaration: FunctionDeclaration): Record<string, string>;
  /** The module a function is loaded from: its synthesized bundle. Default: its TypeScript entry. */
  moduleOf?(declaration: FunctionDeclaration): string;
}

/**
 * The catalog's functions, each loaded on its first invocation, as a Lambda cold start would:
 * handlers read their configuration at load, so each loads and runs inside its own environment
 * (shared/platform/config.ts): a variable its catalog entry does not bind is unset, as on AWS. A
 * function whose module fails to load fails every invocation, like a broken deployment, without
 * taking the others down.
 */
export function catalogFunctions(
  declarations: readonly FunctionDeclaration[],
  root: string,
  options: CatalogFunctionOptions,
): Map<string, LocalFunction & { declaration: FunctionDeclaration; load(): Promise<void> }> {
  return new Map(
    declarations.map((declaration) => {
      const env = options.environmentOf(declaration);
      const file = options.moduleOf?.(declaration) ?? path.join(root, declaration.entry);
      let loaded: LambdaHandler | undefined;
      let loading: Promise<LambdaHandler> | undefined;
      const load = () =>
        (loading ??= oneAtATime(() => withFunctionEnv(env, () => import(pathToFileURL(file).href))).then((module: { handler?: LambdaHandler }) => {
          if (typeof module.handler !== 'function') throw new Error(`${file} does not export a handler`);
          return (loaded = module.handler);
        }));
      const handler: LambdaHandler = (event, context) => withFunctionEnv(env, async () => (loaded ?? (await load()))(event, context));
      return [declaration.name, { spec: declaration, handler, declaration, load: async () => void (await load()) }] as const;
    }),
  );
}
