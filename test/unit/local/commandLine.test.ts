import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirLockedError, lockDataDir } from '../../../local/dataDirLock.js';
import { repositoryRoot } from '../../../local/paths.js';

const bin = path.join(repositoryRoot, 'node_modules/.bin');

/** Runs a local script as npm would (Node 24 from node_modules first on PATH); kills it after timeoutMs. */
function run(script: string, args: string[], timeoutMs = 20_000, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(path.join(bin, 'tsx'), [path.join(repositoryRoot, 'local', script), ...args], {
      cwd: repositoryRoot,
      env: { ...process.env, ...env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const noStackTrace = (text: string) => expect(text).not.toMatch(/^\s+at /m);

let dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'telltale-cli-'));
  dirs.push(dir);
  return dir;
};
afterEach(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  dirs = [];
});

describe('npm start and npm run token: command lines', () => {
  it('npm start -- --help lists every flag and exits 0', async () => {
    const { code, stdout, stderr } = await run('main.ts', ['--help']);
    expect(code).toBe(0);
    for (const flag of ['--port', '--memory', '--data-dir', '--endpoint', '--verbose', '--no-seed', '--help']) expect(stdout).toContain(flag);
    expect(stderr).toBe('');
  });

  it('npm start with an unknown flag prints a usage error, not a stack trace, and exits 2', async () => {
    const { code, stderr } = await run('main.ts', ['--bogus']);
    expect(code).toBe(2);
    expect(stderr).toContain("Unknown option '--bogus'");
    expect(stderr).toContain('Usage: npm start');
    noStackTrace(stderr);
  });

  it('npm run token -- --help exits 0; an unknown flag or a missing value is a usage error', async () => {
    const help = await run('token.ts', ['--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--tenant', '--scope', '--ttl', '--subject']) expect(help.stdout).toContain(flag);
    const unknown = await run('token.ts', ['--tenant', 'acme', '--nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--nope'");
    noStackTrace(unknown.stderr);
    const missing = await run('token.ts', ['--tenant']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Usage: npm run token');
    noStackTrace(missing.stderr);
  });

  it('npm start with a fault plan it cannot read (TELLTALE_FAULTS or --faults) is a usage error naming the rule', async () => {
    const { code, stderr } = await run('main.ts', ['--memory', '--port', '0', '--no-seed'], 20_000, { TELLTALE_FAULTS: 's3:GetObject=teapot@0.1' });
    expect(code).toBe(2);
    expect(stderr).toContain('Unknown s3 fault "teapot" (one of 500, 503, truncate)');
    expect(stderr).toContain('--faults PLAN');
    noStackTrace(stderr);
  });

  it('a second npm start on a data folder another instance holds says so and exits 1', async () => {
    const dataDir = await tempDir();
    // This test process plays the running instance.
    await writeFile(path.join(dataDir, 'local-cloud.pid'), String(process.pid));
    const { code, stderr } = await run('main.ts', ['--data-dir', dataDir, '--port', '0', '--no-seed']);
    expect(code).toBe(1);
    expect(stderr).toContain(`Another local cloud (pid ${process.pid}) holds ${dataDir}`);
    expect(stderr).toMatch(/--memory.*--data-dir/);
    noStackTrace(stderr);
  });
});

describe('data folder lock', () => {
  it('is refused while a live process holds it, and free again once released', async () => {
    const dataDir = await tempDir();
    const release = await lockDataDir(dataDir);
    expect(await readFile(path.join(dataDir, 'local-cloud.pid'), 'utf8')).toBe(String(process.pid));
    await expect(lockDataDir(dataDir)).rejects.toThrow(DataDirLockedError);
    await release();
    await expect(stat(path.join(dataDir, 'local-cloud.pid'))).rejects.toThrow();
    await (await lockDataDir(dataDir))();
  });

  it('takes over a pid file left by a process that died', async () => {
    const dataDir = await tempDir();
    // Above the largest pid Linux hands out (4194304), so no process has it.
    await writeFile(path.join(dataDir, 'local-cloud.pid'), '9999999');
    const release = await lockDataDir(dataDir);
    expect(await readFile(path.join(dataDir, 'local-cloud.pid'), 'utf8')).toBe(String(process.pid));
    await release();
  });
});
