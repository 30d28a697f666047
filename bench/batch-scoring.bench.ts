/**
 * Batch scoring end to end, side by side with scikit-learn: one seeded CSV of 1,000,000 rows x 8
 * features (about 88 MB, in a temp dir), fitted on the first 10,000 rows, every row scored and
 * written as timestamp,score,label. The built CLI (dist/, as `npx telltale` runs without tsx) with
 * the default detector and with the isolation forest, and the peer script (pandas read, sklearn
 * IsolationForest fit and score_samples, CSV write), run in turn, 3 times each; wall time and the
 * peak RSS of each child process (VmHWM, polled from /proc). Also the built CLI's start time.
 *
 * BATCH_BENCH_ROWS sets a smaller file while developing; TELLTALE_PEER_PYTHON is the Python with
 * scikit-learn and pandas (default ../venv/bin/python), TELLTALE_PEER_SCRIPT the peer script.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createGaussian, createRng } from '../shared/ml/multivariate/rng.js';
import { table, type BenchSection } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const ROWS = Number(process.env.BATCH_BENCH_ROWS ?? 1_000_000);
const TRAIN_ROWS = Math.min(10_000, ROWS);
const FEATURES = 8;
const RUNS = 3;
const PYTHON = process.env.TELLTALE_PEER_PYTHON ?? path.resolve(ROOT, '../venv/bin/python');
const PEER = process.env.TELLTALE_PEER_SCRIPT ?? path.resolve(ROOT, '../shared/tools/peer_isolation_forest.py');
const CLI = path.join(ROOT, 'dist/telltale.mjs');

/** A plant of 8 correlated sensors, one reading a second, with a fault on one sensor in the last tenth. */
async function writePlant(file: string): Promise<void> {
  const g = createGaussian(createRng(12));
  const out = createWriteStream(file);
  out.write(`timestamp,${Array.from({ length: FEATURES }, (_, c) => `s${c}`).join(',')}\n`);
  const start = Date.UTC(2026, 0, 1);
  let text = '';
  for (let r = 0; r < ROWS; r++) {
    const a = g();
    const b = g();
    const fault = r > ROWS * 0.9 && r % 5000 < 300 ? 3 : 0;
    text += new Date(start + r * 1000).toISOString().slice(0, 19) + 'Z';
    for (let c = 0; c < FEATURES; c++) text += `,${((c % 2 ? a : b) * (1 + c / 8) + 0.1 * g() + (c === 3 ? fault : 0)).toFixed(4)}`;
    text += '\n';
    if (text.length > 1 << 20) {
      if (!out.write(text)) await once(out, 'drain');
      text = '';
    }
  }
  out.end(text);
  await once(out, 'finish');
}

interface Run {
  seconds: number;
  peakMb: number;
}

/** Runs a command to completion; wall time, and the child's peak resident memory from /proc/PID/status. */
async function measure(command: string, args: readonly string[]): Promise<Run> {
  const started = performance.now();
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let peakKb = 0;
  const poll = setInterval(() => {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
    } catch {
      // The child has exited between two polls.
    }
  }, 20);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearInterval(poll);
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`${path.basename(command)} ${args.join(' ')} exited ${code}: ${stderr.trim()}`);
  return { seconds, peakMb: peakKb / 1024 };
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const lineCount = (file: string): number => readFileSync(file).reduce((n, byte) => n + (byte === 10 ? 1 : 0), 0);

async function startTime(): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    await promisify(execFile)(process.execPath, [CLI, '--help']);
    times.push(performance.now() - t0);
  }
  return median(times);
}

export default async function batchScoringBench(): Promise<BenchSection> {
  await promisify(execFile)(process.execPath, [path.join(ROOT, 'bin/build-cli.mjs')]);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'telltale-batch-'));
  try {
    const input = path.join(dir, 'plant.csv');
    await writePlant(input);
    const megabytes = statSync(input).size / 1e6;
    const hasPeer = existsSync(PYTHON) && existsSync(PEER);
    const contenders = [
      { name: '`telltale detect` (default detector, PCA)', command: process.execPath, args: [CLI, 'detect', '--input', input, '--output', path.join(dir, 'pca.csv'), '--train-rows', String(TRAIN_ROWS)], output: 'pca.csv' },
      {
        name: '`telltale detect --detector isolation_forest`',
        command: process.execPath,
        args: [CLI, 'detect', '--detector', 'isolation_forest', '--input', input, '--output', path.join(dir, 'iforest.csv'), '--train-rows', String(TRAIN_ROWS)],
        output: 'iforest.csv',
      },
      ...(hasPeer ? [{ name: 'scikit-learn IsolationForest (peer script)', command: PYTHON, args: [PEER, input, path.join(dir, 'peer.csv'), '--train-rows', String(TRAIN_ROWS)], output: 'peer.csv' }] : []),
    ];
    const runs = contenders.map(() => [] as Run[]);
    // In turn, so a slow spell of the machine falls on all of them alike.
    for (let i = 0; i < RUNS; i++) {
      for (const [k, c] of contenders.entries()) {
        runs[k].push(await measure(c.command, c.args));
        const lines = lineCount(path.join(dir, c.output));
        if (lines !== ROWS + 1) throw new Error(`${c.name} wrote ${lines} lines, expected ${ROWS + 1}`);
      }
    }
    const figures = contenders.map((c, k) => {
      const seconds = median(runs[k].map((r) => r.seconds));
      return { name: c.name, seconds, rate: ROWS / seconds, peakMb: median(runs[k].map((r) => r.peakMb)), all: runs[k].map((r) => r.seconds.toFixed(2)).join(', ') };
    });
    const peer = hasPeer ? figures[2] : undefined;
    const ratio = (rate: number) => (peer ? `${(rate / peer.rate).toFixed(1)}x` : 'no peer');
    const startMs = await startTime();
    const rowsText = ROWS.toLocaleString('en');
    const [pca, forest] = figures;
    const peerNote = peer ? ` (peer ${Math.round(peer.rate).toLocaleString('en')} rows/s)` : ' (peer not run)';
    const glance = [
      { measure: `batch scoring ${rowsText} x 8 CSV, default detector, rows/s vs scikit-learn IsolationForest`, aim: '>= 10x', measured: `${Math.round(pca.rate).toLocaleString('en')} rows/s, ${ratio(pca.rate)}${peerNote}` },
      { measure: `batch scoring ${rowsText} x 8 CSV, isolation forest, rows/s vs scikit-learn IsolationForest`, aim: '>= 2x', measured: `${Math.round(forest.rate).toLocaleString('en')} rows/s, ${ratio(forest.rate)}` },
      { measure: 'batch scoring peak RSS', aim: '< 200 MB', measured: `${pca.peakMb.toFixed(0)} MB (PCA), ${forest.peakMb.toFixed(0)} MB (forest)${peer ? `; peer ${peer.peakMb.toFixed(0)} MB` : ''}` },
      { measure: 'built CLI start (`telltale --help`)', aim: 'well under 1 s', measured: `${startMs.toFixed(0)} ms` },
    ];
    const markdown = [
      `One CSV of ${rowsText} rows x ${FEATURES} features (${megabytes.toFixed(0)} MB, seeded), fitted on the first ${TRAIN_ROWS.toLocaleString('en')} rows, every row scored and written as \`timestamp,score,label\`. ` +
        `The built CLI (\`npm run build:cli\`, run as \`node dist/telltale.mjs\`) with its default worker count (${Math.min(os.availableParallelism(), 8)} here), and the scikit-learn peer, run in turn ${RUNS} times each; ` +
        'wall time of the whole process (start, read, fit, score, write) and its peak RSS (VmHWM), medians.',
      '',
      table(
        ['run', 'wall s (median)', 'runs, s', 'rows/s', 'vs peer', 'peak RSS MB'],
        figures.map((f) => [f.name, f.seconds.toFixed(2), f.all, Math.round(f.rate).toLocaleString('en'), ratio(f.rate), f.peakMb.toFixed(0)]),
      ),
      '',
      peer
        ? `Peer: \`${path.relative(ROOT, PEER)}\` on \`${PYTHON}\` (pandas read, IsolationForest(n_estimators=100, max_samples=256) fit, score_samples, CSV write).`
        : `The peer did not run: no Python at ${PYTHON} or no script at ${PEER} (set TELLTALE_PEER_PYTHON to a Python with scikit-learn and pandas, TELLTALE_PEER_SCRIPT to peer_isolation_forest.py).`,
      '',
      `Start of the built CLI, \`node dist/telltale.mjs --help\`, median of 7: ${startMs.toFixed(0)} ms (commands that need onnxruntime or the AWS SDK load them when they run).`,
    ].join('\n');
    return { title: 'Batch scoring (`telltale detect` on a large CSV, vs scikit-learn)', glance, markdown };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
