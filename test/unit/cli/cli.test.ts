import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../bin/cli.js';
import { createGaussian, createRng } from '../../../shared/ml/multivariate/rng.js';
import { captureStderr } from '../../fixtures/stderr.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const SKAB = path.join(ROOT, 'test/fixtures/skab/valve1/1.csv');
const ROWS = 300;
const TRAIN = 200;
const FAULT = [250, 270] as const;

let dir: string;
const file = (name: string) => path.join(dir, name);

/** Runs the real launcher in a child process, as a user would. */
async function telltale(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [path.join(ROOT, 'bin/telltale.js'), ...args], {
      cwd: dir,
      env: { ...process.env, PATH: `${path.join(ROOT, 'node_modules/.bin')}${path.delimiter}${process.env.PATH ?? ''}` },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** `;`-separated plant data: three correlated sensors, a text column and a label column; sensor b breaks away in the fault. */
function plantCsv(rows: number): string {
  const g = createGaussian(createRng(3));
  const lines = ['time;a;b;c;status;anomaly'];
  for (let r = 0; r < rows; r++) {
    const x = g();
    const y = g();
    const fault = r >= FAULT[0] && r < FAULT[1];
    const b = 0.7 * x + 0.7 * y + 0.05 * g() + (fault ? 1.2 : 0);
    lines.push([new Date(Date.UTC(2026, 0, 1, 0, 0, r)).toISOString(), x.toFixed(5), b.toFixed(5), y.toFixed(5), r % 2 ? 'ok' : 'idle', fault ? '1' : '0'].join(';'));
  }
  return `${lines.join('\r\n')}\r\n`;
}

interface OutputRow {
  timestamp: string;
  score: number;
  label: number;
}

function readOutput(name: string): OutputRow[] {
  const [header, ...lines] = readFileSync(file(name), 'utf8').trim().split('\n');
  expect(header).toBe('timestamp,score,label');
  return lines.map((l) => {
    const [timestamp, score, label] = l.split(',');
    return { timestamp, score: Number(score), label: Number(label) };
  });
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'telltale-cli-'));
  const csv = plantCsv(ROWS);
  const lines = csv.trim().split('\r\n');
  writeFileSync(file('plant.csv'), csv);
  writeFileSync(file('prefix.csv'), lines.slice(0, FAULT[0] + 11).join('\n'));
  writeFileSync(file('train.csv'), lines.slice(0, TRAIN + 1).join('\n'));
  writeFileSync(file('test.csv'), [lines[0], ...lines.slice(TRAIN + 1)].join('\n'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('telltale detect, train and evaluate (child process)', () => {
  it('detect writes timestamp,score,label for every row in input order and flags the fault', async () => {
    // A 20-row fault: the plain PCA setting (the defaults' 30-row windows would smear it).
    const run = await telltale('detect', '--input', 'plant.csv', '--detector', 'pca', '--train-rows', String(TRAIN), '--ignore', 'anomaly', '--output', 'out.csv');

    expect(run.code).toBe(0);
    expect(run.stderr).toContain('ignoring column "status"');
    const out = readOutput('out.csv');
    const input = readFileSync(file('plant.csv'), 'utf8').trim().split('\r\n').slice(1);
    expect(out.map((r) => r.timestamp)).toEqual(input.map((l) => l.split(';')[0]));
    expect(out.every((r) => r.score >= 0 && r.score <= 1 && (r.label === 0 || r.label === 1))).toBe(true);
    expect(out.slice(FAULT[0], FAULT[1]).filter((r) => r.label).length).toBeGreaterThanOrEqual(15);
    expect(out.slice(TRAIN, FAULT[0]).filter((r) => r.label).length).toBeLessThanOrEqual(3);

    const evaluation = await telltale('evaluate', '--predictions', 'out.csv', '--labels', 'plant.csv', '--label-column', 'anomaly', '--skip-rows', String(TRAIN));
    expect(evaluation.code).toBe(0);
    const metrics = JSON.parse(evaluation.stdout) as { points: number; f1: number; rocAuc: number };
    expect(metrics.points).toBe(ROWS - TRAIN);
    expect(metrics.f1).toBeGreaterThan(0.7);
    expect(metrics.rocAuc).toBeGreaterThan(0.9);
  });

  it('in streaming mode a row scores the same whatever follows it, and a training file gives the same scores', async () => {
    const [full, prefix, trained] = await Promise.all([
      telltale('detect', '--input', 'plant.csv', '--mode', 'streaming', '--train-rows', String(TRAIN), '--features', 'a,b,c', '--output', 'full.csv'),
      telltale('detect', '--input', 'prefix.csv', '--mode', 'streaming', '--train-rows', String(TRAIN), '--features', 'a,b,c', '--output', 'prefix-out.csv'),
      telltale('detect', '--input', 'test.csv', '--train', 'train.csv', '--features', 'a,b,c', '--output', 'trained.csv'),
    ]);

    expect([full.code, prefix.code, trained.code]).toEqual([0, 0, 0]);
    const fullRows = readOutput('full.csv');
    const prefixRows = readOutput('prefix-out.csv');
    expect(prefixRows).toEqual(fullRows.slice(0, prefixRows.length));
    expect(fullRows.slice(0, TRAIN).every((r) => r.score === 0 && r.label === 0)).toBe(true);
    expect(readOutput('trained.csv')).toEqual(fullRows.slice(TRAIN));
  });

  it('train writes an ONNX model and its manifest', async () => {
    const run = await telltale('train', '--input', 'plant.csv', '--detector', 'pca', '--train-rows', String(TRAIN), '--ignore', 'anomaly', '--output', 'model.onnx');

    expect(run.code).toBe(0);
    expect(readFileSync(file('model.onnx')).length).toBeGreaterThan(100);
    const manifest = JSON.parse(readFileSync(file('model.manifest.json'), 'utf8')) as { detector: string; features: string[]; training: { rows: number } };
    expect(manifest).toMatchObject({ detector: 'pca', features: ['a', 'b', 'c'], training: { rows: TRAIN } });
  });

  it.skipIf(!existsSync(SKAB))('runs SKAB valve1/1.csv with its protocol (fit on 400 rows)', async () => {
    const run = await telltale('detect', '--input', SKAB, '--train-rows', '400', '--ignore', 'anomaly,changepoint', '--output', 'skab.csv');
    const evaluation = await telltale('evaluate', '--predictions', 'skab.csv', '--labels', SKAB, '--label-column', 'anomaly', '--skip-rows', '400');

    expect(run.code).toBe(0);
    expect(readOutput('skab.csv')).toHaveLength(1145);
    expect(evaluation.code).toBe(0);
    expect((JSON.parse(evaluation.stdout) as { rocAuc: number }).rocAuc).toBeGreaterThan(0.5);
  });

  it('exits non-zero with a message on a missing file', async () => {
    const run = await telltale('detect', '--input', 'missing.csv', '--output', 'x.csv');

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('cannot read missing.csv: ENOENT');
  });
});

describe('telltale refuses bad input (in process)', () => {
  const stderr = captureStderr();

  const write = (name: string, text: string) => {
    writeFileSync(file(name), text);
    return file(name);
  };

  it.each([
    ['no numeric columns', () => ['detect', '--input', write('text.csv', 'time,a\n1,x\n2,y\n'), '--output', file('x.csv')], 1, 'no numeric feature columns'],
    ['a ragged row', () => ['detect', '--input', write('ragged.csv', 'time,a,b\n1,2,3\n2,3\n'), '--output', file('x.csv')], 1, 'line 3 has 2 fields, the header has 3'],
    ['a header only', () => ['detect', '--input', write('header.csv', 'time,a,b\n'), '--output', file('x.csv')], 1, 'no data rows'],
    ['a named column that is not numeric', () => ['detect', '--input', file('plant.csv'), '--features', 'a,status', '--output', file('x.csv')], 1, 'column "status": "idle" is not a number'],
    ['an unknown column', () => ['detect', '--input', file('plant.csv'), '--features', 'a,zzz', '--output', file('x.csv')], 2, 'no column "zzz"'],
    ['too few rows to fit', () => ['detect', '--input', write('short.csv', 't,a,b\n1,1,2\n2,3,1\n'), '--output', file('x.csv')], 1, 'at least 10 needed'],
    ['an unknown detector', () => ['detect', '--input', file('plant.csv'), '--detector', 'lstm', '--output', file('x.csv')], 2, '--detector must be one of'],
    ['both --train-rows and --train', () => ['detect', '--input', file('plant.csv'), '--train-rows', '50', '--train', file('train.csv'), '--output', file('x.csv')], 2, 'not both'],
    ['a bad sensitivity', () => ['detect', '--input', file('plant.csv'), '--sensitivity', 'high', '--output', file('x.csv')], 2, '--sensitivity must be a number'],
    ['a missing --output', () => ['detect', '--input', file('plant.csv')], 2, '--output is required'],
    ['an unknown option', () => ['detect', '--input', file('plant.csv'), '--output', file('x.csv'), '--fast'], 2, "Unknown option '--fast'"],
    ['an unknown command', () => ['score'], 2, 'unknown command "score"'],
    ['labels of another length', () => ['evaluate', '--predictions', write('p.csv', 'timestamp,score,label\n1,0.1,0\n'), '--labels', file('plant.csv'), '--label-column', 'anomaly'], 1, 'has 1 rows'],
    ['a training file without the features', () => ['detect', '--input', file('plant.csv'), '--train', write('other.csv', 't,x\n1,2\n'), '--features', 'a,b', '--output', file('x.csv')], 2, 'no column "a"'],
  ])('%s', async (_what, args, code, message) => {
    expect(await main(args())).toBe(code);
    expect(stderr.text()).toContain(message);
  });

  it('the streaming detector accepts a flat warm-up, and its score column marks the first departure as the one onset', async () => {
    const csv = write('flat-warmup.csv', `t,v\n${Array.from({ length: 700 }, (_, i) => `${i},${i < 500 ? 7 : (7.5 + 0.3 * Math.sin(i / 7)).toFixed(4)}`).join('\n')}\n`);

    expect(await main(['detect', '--input', csv, '--detector', 'streaming', '--mode', 'streaming', '--output', file('flat-out.csv')])).toBe(0);

    const onsets = readOutput('flat-out.csv').flatMap((r, i) => (r.score >= 0.25 ? [i] : []));
    expect(onsets).toEqual([500]);
  });
});
