/**
 * The README's commands, run as written and in order against a fresh local cloud, as a newcomer
 * who has `npm start` running would run them: every shell block, except those marked as needing
 * what a test machine does not have (AWS, Docker), must exit 0. curl fails on an HTTP error here
 * (--fail-with-body), so a command the API refuses fails the test.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repositoryRoot, startLocalCloud, type LocalCloud } from '../../local/cloud.js';

/** A shell block is skipped when the line before its fence is this marker, with the reason after it. */
const skipMarker = /<!-- not run by the README test: (.+?) -->\s*$/;

export interface ShellBlock {
  line: number;
  code: string;
  skipped?: string;
}

export function shellBlocks(readme: string): ShellBlock[] {
  const lines = readme.split('\n');
  const blocks: ShellBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(bash|sh|shell)\s*$/.test(lines[i])) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i].startsWith('```'); i++) body.push(lines[i]);
    const skipped = lines[start - 1]?.match(skipMarker)?.[1] ?? (start > 1 ? lines[start - 2]?.match(skipMarker)?.[1] : undefined);
    blocks.push({ line: start + 1, code: body.join('\n'), ...(skipped ? { skipped } : {}) });
  }
  return blocks;
}

function run(script: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      output += `\n[killed after ${timeoutMs} ms]`;
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('the README', () => {
  let cloud: LocalCloud;
  let workDir: string;

  beforeAll(async () => {
    // Tokens from `npm run token` are signed with the key under .telltale/keys, as npm start's are.
    cloud = await startLocalCloud({ memory: true, port: 0 });
    // A working folder that looks like the checkout (what the commands read), so the files they write stay out of it.
    workDir = await mkdtemp(path.join(os.tmpdir(), 'telltale-readme-'));
    for (const entry of ['package.json', 'node_modules', 'bin', 'local', 'shared', 'test', 'tsconfig.json']) {
      await symlink(path.join(repositoryRoot, entry), path.join(workDir, entry));
    }
  });

  afterAll(async () => {
    await cloud?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('finds the shell blocks, and says why it skips any', async () => {
    const blocks = shellBlocks(await readFile(path.join(repositoryRoot, 'README.md'), 'utf8'));
    expect(blocks.filter((b) => !b.skipped).length).toBeGreaterThanOrEqual(4);
    expect(shellBlocks('x\n<!-- not run by the README test: needs AWS -->\n```bash\ncdk deploy\n```\n```sh\necho hi\n```\n')).toEqual([
      { line: 3, code: 'cdk deploy', skipped: 'needs AWS' },
      { line: 6, code: 'echo hi' },
    ]);
  });

  it('runs every command as written, in order, against the local cloud', async () => {
    const blocks = shellBlocks(await readFile(path.join(repositoryRoot, 'README.md'), 'utf8')).filter((b) => !b.skipped);
    const port = new URL(cloud.url).port;
    const script = [
      'set -euo pipefail',
      // An HTTP error answer fails the command, as it would fail the reader.
      'curl() { command curl --fail-with-body --max-time 30 "$@"; }',
      ...blocks.map((b) => `echo "--- README.md line ${b.line}" >&2\n${b.code.replaceAll('localhost:4000', `127.0.0.1:${port}`)}`),
    ].join('\n');
    const { code, output } = await run(
      script,
      workDir,
      { ...process.env, PATH: `${path.join(repositoryRoot, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH ?? ''}`, TELLTALE_API_URL: cloud.url, npm_config_update_notifier: 'false' },
      150_000,
    );
    expect(code, output).toBe(0);
  }, 180_000);
});
