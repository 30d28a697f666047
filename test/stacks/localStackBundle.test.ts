import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalog } from '../../shared/catalog.js';
import { repositoryRoot, TelltaleFunction } from '../../stacks/constructs/telltaleFunction.js';
import { cdkJsonContext } from './telltaleApp.js';

/** Lambda's limit on a function's unzipped code (layers included). */
const lambdaUnzippedLimit = 250 * 1024 * 1024;

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)]));

/**
 * An onnxruntime function as the LocalStack build (`-c localstack=true`, no layers there) bundles it:
 * onnxruntime-node in its own node_modules. Bundled for real into cdk.out/, reused while the sources
 * stay the same.
 */
function localStackPredictAsset(): string {
  const app = new App({ context: cdkJsonContext, outdir: join(repositoryRoot, 'cdk.out', 'test-localstack-bundle') });
  const stack = new Stack(app, 'LocalStackBundle');
  const declaration = catalog.find((f) => f.usesModelsLayer)!;
  const fn = new TelltaleFunction(stack, 'Fn', {
    declaration,
    nodeModules: ['onnxruntime-node'],
    stage: 'test',
    serviceVersion: '0.0.0',
    tenantClaim: 'tenant',
    logRetention: RetentionDays.ONE_DAY,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const assembly = app.synth();
  const { s3Key } = stack.resolve((fn.node.defaultChild as CfnFunction).code) as { s3Key: string };
  return join(assembly.directory, `asset.${s3Key.replace(/\.zip$/, '')}`);
}

describe('an onnxruntime function of the LocalStack build', () => {
  let asset: string;
  beforeAll(() => {
    asset = localStackPredictAsset();
  }, 300_000);

  it('carries the linux/x64 onnxruntime binaries only, and stays under Lambda\'s 250 MB', () => {
    const files = filesUnder(asset);
    const binaries = files.filter((f) => /\.(node|so(\.\d+)*|dylib|dll)$/.test(f)).map((f) => relative(join(asset, 'node_modules/onnxruntime-node/bin'), f));
    expect(binaries.length).toBeGreaterThan(0);
    expect(binaries.filter((b) => !/^napi-v\d+\/linux\/x64\//.test(b))).toEqual([]);
    const bytes = files.reduce((sum, f) => sum + statSync(f).size, 0);
    expect(bytes).toBeLessThan(lambdaUnzippedLimit);
  });

  it('still loads onnxruntime from what is left', async () => {
    const script = "const { createRequire } = await import('node:module'); const ort = createRequire(process.argv[1])('onnxruntime-node'); if (typeof ort.InferenceSession?.create !== 'function') throw new Error('no InferenceSession');";
    await expect(promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, join(asset, 'index.mjs')], { cwd: asset })).resolves.toBeDefined();
  }, 30_000);
});
