import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalog } from '../../shared/catalog.js';
import { synthesizeBundles, type SynthesizedFunction } from './synthesizedBundles.js';

const run = promisify(execFile);

/** What the Lambda runtime adds to a function's own variables (no credentials: loading calls nothing). */
const runtimeEnvironment = (fn: SynthesizedFunction) => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  TZ: ':UTC',
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
  AWS_LAMBDA_FUNCTION_NAME: fn.name,
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
  LAMBDA_TASK_ROOT: fn.assetDir,
});

/** Loads a bundle as a cold start does, in its own process with exactly its template's environment; the problem, or undefined. */
async function coldStart(fn: SynthesizedFunction): Promise<string | undefined> {
  const script = "const m = await import(process.argv[1]); if (typeof m.handler !== 'function') throw new Error('no handler export');";
  try {
    await run(process.execPath, ['--input-type=module', '-e', script, pathToFileURL(fn.bundle).href], {
      cwd: fn.assetDir,
      env: { ...runtimeEnvironment(fn), ...fn.environment },
      timeout: 30_000,
    });
    return undefined;
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    return (stderr?.split('\n').find((line) => /^\w*Error: /.test(line)) ?? message).trim();
  }
}

describe('the bundles cdk synth builds', () => {
  let functions: SynthesizedFunction[];
  beforeAll(() => {
    functions = synthesizeBundles();
  }, 180_000);

  it('are one per catalog function', () => {
    expect(functions.map((f) => f.name).sort()).toEqual(catalog.map((f) => f.name).sort());
  });

  it('each load and export a handler with only the environment its template gives it', async () => {
    const problems: Record<string, string> = {};
    // Two at a time: one process per bundle, so no variable leaks from one function to the next.
    const queue = [...functions];
    await Promise.all(
      [0, 1].map(async () => {
        for (let fn = queue.shift(); fn; fn = queue.shift()) {
          const problem = await coldStart(fn);
          if (problem) problems[fn.name] = problem;
        }
      }),
    );
    expect(problems).toEqual({});
  }, 120_000);
});
