import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allScopes, useLocalCloud } from './localCloudFixture.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SKAB = path.join(ROOT, 'test/fixtures/data/skab-valve1-0.csv');
const local = useLocalCloud();
let dir: string;
let token: string;

/** Runs the real launcher in a child process against the local cloud, as a user would. */
async function telltale(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [path.join(ROOT, 'bin/telltale.js'), ...args], {
      cwd: dir,
      env: { ...process.env, TELLTALE_API_URL: local.cloud.url, TELLTALE_TOKEN: token, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'telltale-cli-datasets-'));
  token = await local.cloud.mintToken({ tenant: 'cli-push', scopes: allScopes });
  writeFileSync(path.join(dir, 'garbage.csv'), 'hello\nworld\n');
  writeFileSync(path.join(dir, 'notes.txt'), 'a,b\n1,2\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('telltale datasets (child process, local cloud)', () => {
  it('push --wait registers, streams the file and follows the pipeline to READY; get and list show it', async () => {
    const push = await telltale(['datasets', 'push', SKAB, '--id', 'valve1-0', '--wait', '--interval', '0.1', '--timeout', '30']);

    expect(push.code, push.stderr).toBe(0);
    expect(push.stderr).toContain('registered dataset "valve1-0" (PENDING)');
    expect(push.stderr).toMatch(/uploaded skab-valve1-0\.csv \([\d,]+ bytes\)/);
    expect(push.stderr).toContain('status READY');
    expect(push.stderr).toMatch(/dataset "valve1-0" is READY, rows: 1147 raw, 1147 valid, \d+ processed; quality: \d+ error\(s\)/);
    const dataset = JSON.parse(push.stdout) as { id: string; name: string; status: string; fileName: string; rows: { raw: number } };
    expect(dataset).toMatchObject({ id: 'valve1-0', name: 'skab-valve1-0', status: 'READY', fileName: 'skab-valve1-0.csv', rows: { raw: 1147 } });

    const [get, list, again] = await Promise.all([
      telltale(['datasets', 'get', 'valve1-0']),
      telltale(['datasets', 'list']),
      telltale(['datasets', 'push', SKAB, '--id', 'valve1-0']),
    ]);
    expect(get.code).toBe(0);
    expect(JSON.parse(get.stdout)).toMatchObject({ id: 'valve1-0', status: 'READY' });
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { items: { id: string }[] }).items.map((d) => d.id)).toContain('valve1-0');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('error: A dataset with id "valve1-0" already exists');
  });

  it('push --wait of a garbage file exits 1 with the failed step and its cause', async () => {
    const push = await telltale(['datasets', 'push', 'garbage.csv', '--wait', '--interval', '0.1', '--timeout', '30']);

    expect(push.code).toBe(1);
    expect(push.stderr).toContain('status FAILED');
    expect(push.stderr).toMatch(/dataset "ds-[0-9a-f-]+" FAILED at step Validate: .{10,}/);
    expect(JSON.parse(push.stdout)).toMatchObject({ status: 'FAILED', failure: { step: 'Validate' } });
  });

  it('explains refusals and mistakes in one line with a non-zero exit', async () => {
    const nowhere = `http://127.0.0.1:${await closedPort()}`;
    const [badToken, readOnly, missing, badName, noToken, unreachable, unknownDataset] = await Promise.all([
      telltale(['datasets', 'push', SKAB], { TELLTALE_TOKEN: 'not-a-jwt' }),
      local.cloud.mintToken({ tenant: 'cli-push', scopes: ['telltale/read'] }).then((t) => telltale(['datasets', 'push', SKAB, '--token', t])),
      telltale(['datasets', 'push', 'nowhere.csv']),
      telltale(['datasets', 'push', 'notes.txt']),
      telltale(['datasets', 'list'], { TELLTALE_TOKEN: '' }),
      telltale(['datasets', 'list', '--api', nowhere]),
      telltale(['datasets', 'get', 'nope']),
    ]);

    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toMatch(/error: .*token/i);
    expect(readOnly.code).toBe(1);
    expect(readOnly.stderr).toMatch(/error: .*telltale\/data/);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no such file: nowhere.csv');
    expect(badName.code).toBe(1);
    expect(badName.stderr).toContain('.csv, .csv.gz, .jsonl or .ndjson');
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('TELLTALE_TOKEN');
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain(`error: cannot reach ${nowhere} (ECONNREFUSED)`);
    expect(unknownDataset.code).toBe(1);
    expect(unknownDataset.stderr).toContain('error: No dataset "nope"');
  });
});
