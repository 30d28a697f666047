import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../bin/cli.js';
import { createGaussian, createRng } from '../../../shared/ml/multivariate/rng.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const run = promisify(execFile);
let out: string;

/** Every module the file loads as it starts: its static imports, followed through the build's own chunks. */
function staticImports(file: string, seen = new Set<string>()): Set<string> {
  for (const m of readFileSync(file, 'utf8').matchAll(/^import\s*(?:[^'"]*?from\s*)?["']([^"']+)["']/gm)) {
    const spec = m[1];
    if (spec.startsWith('.')) {
      const next = path.resolve(path.dirname(file), spec);
      if (!seen.has(next)) {
        seen.add(next);
        staticImports(next, seen);
      }
    } else seen.add(spec);
  }
  return seen;
}

describe('the built CLI (npm run build:cli), which runs without tsx', () => {
  beforeAll(async () => {
    // Inside the repository, so the packages it leaves external resolve from node_modules as in dist/.
    mkdirSync(path.join(ROOT, '.telltale'), { recursive: true });
    out = mkdtempSync(path.join(ROOT, '.telltale', 'cli-build-'));
    await run(process.execPath, [path.join(ROOT, 'bin/build-cli.mjs'), out]);
    const g = createGaussian(createRng(9));
    const lines = ['time;a;b;c'];
    for (let r = 0; r < 3000; r++) {
      const x = g();
      lines.push([`2026-01-01 ${String(r).padStart(6, '0')}`, x.toFixed(4), (0.5 * x + g()).toFixed(4), (r > 2900 ? 3 : 0) + g() * 0.1].join(';'));
    }
    writeFileSync(path.join(out, 'plant.csv'), `${lines.join('\n')}\n`);
  }, 60_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('detects on two threads and writes what the source CLI writes', async () => {
    const args = ['detect', '--input', path.join(out, 'plant.csv'), '--train-rows', '1000', '--input-window', '3', '--score-window', '5'];
    const { stderr } = await run(process.execPath, [path.join(out, 'telltale.mjs'), ...args, '--workers', '2', '--output', path.join(out, 'built.csv')], { cwd: out });
    expect(stderr).toContain('pca (batch) on 3 feature(s) [a, b, c], fitted on the first 1000 rows');
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await main([...args, '--workers', '1', '--output', path.join(out, 'source.csv')])).toBe(0);
    vi.restoreAllMocks();
    const built = readFileSync(path.join(out, 'built.csv'), 'utf8');
    expect(built.split('\n')).toHaveLength(3002);
    expect(built).toBe(readFileSync(path.join(out, 'source.csv'), 'utf8'));
  }, 60_000);

  it('trains through a module it loads only for that command', async () => {
    await run(process.execPath, [path.join(out, 'telltale.mjs'), 'train', '--input', path.join(out, 'plant.csv'), '--output', path.join(out, 'model.onnx')], { cwd: out });
    expect(existsSync(path.join(out, 'model.onnx'))).toBe(true);
  }, 60_000);

  it('starts without loading onnxruntime, the AWS SDK or the ONNX tooling (commands load what they need when they run)', async () => {
    const loaded = [...staticImports(path.join(out, 'telltale.mjs'))].filter((m) => !m.startsWith('/') && !m.startsWith('node:'));
    expect(loaded.filter((m) => /onnx|@aws-sdk/.test(m))).toEqual([]);
    const { stdout } = await run(process.execPath, [path.join(out, 'telltale.mjs'), '--help']);
    expect(stdout).toContain('--workers N');
  });
});
