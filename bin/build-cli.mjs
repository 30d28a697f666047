#!/usr/bin/env node
/* global console, process */
/**
 * Builds the CLI into dist/ (telltale.mjs and its scoring thread, score-worker.mjs) with esbuild, so
 * it runs on plain Node without tsx. The packages it uses stay external: an install has them (they
 * are dependencies), and onnxruntime-node, a native addon, must be loaded from node_modules anyway.
 *   node bin/build-cli.mjs [OUTDIR]
 */
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const outdir = path.resolve(process.argv[2] ?? path.join(root, 'dist'));
// The chunks' names change with their content: clear the default output so no stale one stays.
if (process.argv[2] === undefined) rmSync(outdir, { recursive: true, force: true });

await build({
  absWorkingDir: root,
  entryPoints: { telltale: 'bin/main.ts', 'score-worker': 'bin/score-worker.ts' },
  outdir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  // Commands load their modules when they run: split chunks keep the AWS SDK and the ONNX tooling out of the start.
  splitting: true,
  // Beside the entries, so the scoring thread's entry (./score-worker.mjs) resolves from any chunk.
  chunkNames: '[name]-[hash]',
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
});
console.log(`telltale CLI built in ${path.relative(process.cwd(), outdir) || '.'}`);
