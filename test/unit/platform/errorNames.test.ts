import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

/** Every module that exports error classes whose names cross a process boundary (Step Functions, training causes, logs). */
const errorModules = ['shared/platform/errors.ts', 'shared/data/errors.ts', 'shared/ml/streaming/errors.ts', 'shared/ml/multivariate/errors.ts', 'shared/ml/onnx/errors.ts', 'shared/gateway/tenantClaim.ts'];
/** Abstract bases, never thrown as such. */
const abstract = new Set(['TelltaleError']);

/** The modules bundled as the stacks bundle functions: ESM, minified, no keepNames. */
async function minifiedExports(): Promise<Record<string, unknown>> {
  const result = await build({
    stdin: { contents: errorModules.map((m) => `export * from './${m}';`).join('\n'), resolveDir: process.cwd(), loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  return (await import(`data:text/javascript;base64,${Buffer.from(result.outputFiles[0].text).toString('base64')}`)) as Record<string, unknown>;
}

describe('error names in a minified bundle', () => {
  it('stay the class names that Retry, Catch and the user-facing cause lists match', async () => {
    const exported = await minifiedExports();
    const classes = Object.entries(exported).filter(
      (e): e is [string, new (...args: unknown[]) => Error] => typeof e[1] === 'function' && e[1].prototype instanceof Error && !abstract.has(e[0]),
    );
    expect(classes.map(([name]) => name)).toEqual(expect.arrayContaining(['DependencyError', 'ValidationError', 'DataValidationError', 'InvalidInputError', 'MlInputError']));
    for (const [name, ErrorClass] of classes) expect({ name, thrown: new ErrorClass([]).name }).toEqual({ name, thrown: name });
  });
});
