import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import { createTelltale } from '../../stacks/app.js';
import { repositoryRoot, TelltaleFunction } from '../../stacks/constructs/telltaleFunction.js';
import { cdkJsonContext } from './telltaleApp.js';

/** One function as `cdk synth` ships it: its bundle and the environment its template gives it. */
export interface SynthesizedFunction {
  /** Catalog name. */
  name: string;
  stack: string;
  /** The asset folder, as uploaded (Lambda's /var/task). */
  assetDir: string;
  /** The handler module: `index.mjs` of the asset. */
  bundle: string;
  /** The template's Environment.Variables; values resolved at deploy time (Ref, Fn::ImportValue...) are placeholders. */
  environment: Record<string, string>;
}

type Template = { Resources: Record<string, { Properties?: Record<string, unknown> }> };

/** Asset hashes a template refers to (`<hash>.zip` S3 keys of functions and layers). */
const assetKeysOf = (value: unknown, into: Set<string>): Set<string> => {
  if (typeof value === 'string' && /^[0-9a-f]{64}\.zip$/.test(value)) into.add(value.slice(0, -4));
  else if (value && typeof value === 'object') for (const v of Object.values(value)) assetKeysOf(v, into);
  return into;
};

/** The one folder the bundle tests synthesize to, so a test run bundles once. */
export const bundlesOutdir = 'test-bundles';

/**
 * Runs `work` while holding a lock folder: test files run in parallel processes, and two syntheses
 * writing one cdk.out at once would stage the same assets over each other. A lock older than the
 * slowest synthesis is taken to be left by a killed run.
 */
function exclusively<T>(lock: string, work: () => T): T {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      mkdirSync(lock, { recursive: false });
      break;
    } catch {
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 10 * 60_000) rmSync(lock, { recursive: true, force: true });
      Atomics.wait(sleeper, 0, 0, 200);
    }
  }
  try {
    return work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Synthesizes Telltale as `cdk synth` does, esbuild bundles included, into `cdk.out/<name>` in the
 * repository: bundles import what they leave external (onnxruntime-node) from the repository's
 * node_modules, and bundles whose sources did not change are reused from the last run (their asset
 * hash is a hash of the sources), so only the first run pays for bundling. Asset folders of earlier
 * sources are removed.
 */
export function synthesizeBundles(name: string = bundlesOutdir, context: Record<string, unknown> = {}): SynthesizedFunction[] {
  const outdir = join(repositoryRoot, 'cdk.out', name);
  mkdirSync(outdir, { recursive: true });
  return exclusively(`${outdir}.lock`, () => synthesizeInto(outdir, context));
}

function synthesizeInto(outdir: string, context: Record<string, unknown>): SynthesizedFunction[] {
  const app = new App({ context: { ...cdkJsonContext, ...context }, outdir, builtinCloudFormationValidation: false });
  createTelltale(app);
  const assembly = app.synth();
  const templates = new Map(assembly.stacks.map((artifact) => [artifact.stackName, artifact.template as Template]));
  const functions = app.node.findAll().filter((c): c is TelltaleFunction => c instanceof TelltaleFunction);
  const synthesized = functions.map((fn): SynthesizedFunction => {
    const stack = Stack.of(fn);
    const properties = templates.get(stack.stackName)?.Resources[stack.getLogicalId(fn.node.defaultChild as CfnElement)]?.Properties ?? {};
    const [hash] = assetKeysOf(properties.Code, new Set());
    const assetDir = join(outdir, `asset.${hash}`);
    const variables = (properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    return {
      name: fn.declaration.name,
      stack: stack.stackName,
      assetDir,
      bundle: join(assetDir, 'index.mjs'),
      environment: Object.fromEntries(Object.entries(variables).map(([key, value]) => [key, typeof value === 'string' ? value : `deploy-time-value-of-${key}`])),
    };
  });
  const referenced = new Set<string>();
  for (const template of templates.values()) assetKeysOf(template, referenced);
  for (const entry of readdirSync(outdir)) {
    if (entry.startsWith('asset.') && !referenced.has(entry.slice('asset.'.length).replace(/\..*$/, ''))) rmSync(join(outdir, entry), { recursive: true, force: true });
  }
  for (const fn of synthesized) if (!existsSync(fn.bundle)) throw new Error(`${fn.name}: no bundle at ${fn.bundle}`);
  return synthesized;
}
