/**
 * The data pipeline's three stages (validate, preprocess, profile) in process on generated CSV
 * files of 1,000,000 and 250,000 rows with 8 sensor columns: rows/s (wall clock and CPU time)
 * and peak memory per stage, sampled every 5 ms; one more run of each stage on 4,000,000 rows
 * shows whether memory grows with the file. The aim (issue 4) is 500,000 rows/s per stage
 * on one core, and peak memory that does not grow with the file size.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { preprocessDataset } from '../shared/data/preprocess-dataset.js';
import type { PreprocessRecipeInput } from '../shared/data/preprocess-recipe.js';
import { profileDataset } from '../shared/data/profile-dataset.js';
import { validateDataset } from '../shared/data/validate-dataset.js';
import { table, type BenchSection } from './harness.js';
import type { GlanceRow } from './summary.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const CHUNK = 256 * 1024;
const RUNS = 5;
const SCALE_ROWS = 4_000_000;
const SENSORS = ['pump_current', 'pump_pressure', 'flow', 'temp_in', 'temp_out', 'vibration_x', 'vibration_y', 'valve_pos'];

/** Writes a CSV of `rows` rows at 1 s with plausible sensor values (a cycle, noise, a stuck stretch, a few blanks), streamed. */
async function generate(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file);
  let seed = 12345;
  const rnd = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  const t0 = Date.UTC(2024, 0, 1);
  let text = `timestamp,${SENSORS.join(',')}\n`;
  for (let i = 0; i < rows; i++) {
    text += new Date(t0 + i * 1000).toISOString().replace('.000Z', 'Z');
    for (let c = 0; c < SENSORS.length; c++) {
      const stuck = c === 2 && i % 100_000 > 50_000 && i % 100_000 < 50_200;
      const v = stuck ? 12.5 : 10 * (c + 1) + 3 * Math.sin(i / (600 + 97 * c)) + rnd();
      text += i % 9973 === c ? ',' : `,${v.toFixed(4)}`;
    }
    text += '\n';
    if (text.length > 1 << 16) {
      if (!out.write(text)) await once(out, 'drain');
      text = '';
    }
  }
  out.end(text);
  await once(out, 'finish');
}

interface Measured {
  wallMs: number;
  cpuMs: number;
  peakRssMb: number;
  peakHeapMb: number;
}

/** Runs fn after a GC; peaks are the largest RSS and heap seen above the level before it. */
async function measure(fn: () => Promise<unknown>): Promise<Measured> {
  gc();
  const rss0 = process.memoryUsage.rss();
  const heap0 = process.memoryUsage().heapUsed;
  let rss = rss0;
  let heap = heap0;
  const sample = () => {
    rss = Math.max(rss, process.memoryUsage.rss());
    heap = Math.max(heap, process.memoryUsage().heapUsed);
  };
  const timer = setInterval(sample, 5);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(timer);
  sample();
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, peakRssMb: (rss - rss0) / 2 ** 20, peakHeapMb: (heap - heap0) / 2 ** 20 };
}

const read = (file: string) => createReadStream(file, { highWaterMark: CHUNK });
const RECIPE: PreprocessRecipeInput = { resample: {}, impute: { maxGapRows: 5 } };
const FULL: PreprocessRecipeInput = { resample: {}, impute: { maxGapRows: 5 }, scale: { method: 'zscore' }, windowFeatures: { window: 60, stats: ['mean', 'std'] } };

export default async function dataPipelineBench(): Promise<BenchSection> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'telltale-bench-data-'));
  const results: (string | number)[][] = [];
  const aims: string[] = [];
  const glance: GlanceRow[] = [];
  /** Worst peak RSS and heap of each stage, by rows. */
  const peaks = new Map<string, Map<number, { rss: number; heap: number }>>();
  try {
    for (const rows of [1_000_000, 250_000, SCALE_ROWS]) {
      const raw = path.join(dir, `raw-${rows}.csv`);
      const processed = path.join(dir, `processed-${rows}.csv`);
      await generate(raw, rows);
      const size = (await stat(raw)).size;
      const stages: [string, () => Promise<unknown>][] = [
        [
          'validate',
          async () => {
            const r = await validateDataset(read(raw));
            if (!r.valid || r.counts.rows !== rows) throw new Error(`validation failed: ${JSON.stringify(r.fatalErrors)}`);
          },
        ],
        [
          'preprocess (sort, dedupe, resample, impute; CSV out)',
          async () => {
            const out = createWriteStream(processed);
            const r = await preprocessDataset(() => read(raw), out, RECIPE);
            out.end();
            await once(out, 'finish');
            if (r.rowsOut !== rows) throw new Error(`preprocess wrote ${r.rowsOut} rows`);
          },
        ],
        [
          'preprocess + z-score fit (2 passes) + window features',
          async () => {
            const out = createWriteStream(processed);
            await preprocessDataset(() => read(raw), out, FULL);
            out.end();
            await once(out, 'finish');
          },
        ],
        [
          'profile',
          async () => {
            const r = await profileDataset(read(raw));
            if (r.summary.rows !== rows) throw new Error('profile miscounted');
          },
        ],
      ];
      for (const [name, run] of stages) {
        // The largest file only shows how memory scales: one run of the issue's three stages.
        if (rows === SCALE_ROWS && name.includes('window features')) continue;
        const runCount = rows === SCALE_ROWS ? 1 : RUNS;
        // Each stage runs RUNS times. On a shared machine single figures move by tens of percent
        // (other work, CPU steal), so the table gives the best run (least disturbed) and the median.
        const runs: Measured[] = [];
        for (let r = 0; r < runCount; r++) runs.push(await measure(run));
        runs.sort((a, b) => a.cpuMs - b.cpuMs);
        const best = runs[0];
        const median = runs[Math.floor(runCount / 2)];
        const rate = (ms: number) => Math.round(rows / (ms / 1000));
        const fmt = (n: number) => n.toLocaleString('en-US');
        results.push([
          fmt(rows),
          `${(size / 2 ** 20).toFixed(0)} MiB`,
          name,
          (best.wallMs / 1000).toFixed(2),
          (best.cpuMs / 1000).toFixed(2),
          fmt(rate(best.cpuMs)),
          fmt(rate(median.cpuMs)),
          fmt(rate(median.wallMs)),
          Math.max(...runs.map((x) => x.peakRssMb)).toFixed(0),
          Math.max(...runs.map((x) => x.peakHeapMb)).toFixed(0),
        ]);
        if (!peaks.has(name)) peaks.set(name, new Map());
        peaks.get(name)!.set(rows, { rss: Math.max(...runs.map((x) => x.peakRssMb)), heap: Math.max(...runs.map((x) => x.peakHeapMb)) });
        if (rows === 1_000_000) {
          const verdict = rate(median.cpuMs) >= 500_000 ? 'met' : rate(best.cpuMs) >= 500_000 ? '**short** in the median, met in the best run' : '**short**';
          glance.push({ measure: `${name}, 1M rows x 8`, aim: '500,000 rows/s per CPU-second', measured: `median ${fmt(rate(median.cpuMs))} (best ${fmt(rate(best.cpuMs))}): ${verdict}` });
          aims.push(`${name}: best ${fmt(rate(best.cpuMs))}, median ${fmt(rate(median.cpuMs))} rows/s per CPU-second: ${rate(best.cpuMs) >= 500_000 ? (rate(median.cpuMs) >= 500_000 ? 'meets the aim' : 'meets it in the best run, not in the median') : 'misses the aim'}`);
        }
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const load = os.loadavg().map((l) => l.toFixed(1)).join(', ');
  const memory = [...peaks.entries()].map(
    ([name, byRows]) =>
      `${name}: heap ${[...byRows.entries()]
        .sort(([a], [b]) => a - b)
        .map(([rows, p]) => `${p.heap.toFixed(0)} MiB at ${rows.toLocaleString('en-US')} rows`)
        .join(', ')}; RSS ${[...byRows.entries()]
        .sort(([a], [b]) => a - b)
        .map(([, p]) => p.rss.toFixed(0))
        .join(' / ')} MiB`,
  );
  const heaps = [...peaks.values()].flatMap((byRows) => [...byRows.values()].map((p) => p.heap));
  glance.push({ measure: `peak heap, ${[...new Set([...peaks.values()].flatMap((byRows) => [...byRows.keys()]))].sort((a, b) => a - b).map((r) => r.toLocaleString('en-US')).join(' / ')} rows`, aim: 'flat whatever the file size', measured: `at most ${Math.max(...heaps).toFixed(0)} MiB at any size` });
  return {
    title: 'Data pipeline: validate, preprocess, profile (issue 4)',
    glance,
    markdown: `Generated CSV, 8 sensor columns and an ISO 8601 timestamp, read from a temp file in ${CHUNK / 1024} KiB chunks; each stage in process, one after the other, after a forced GC. Rows/s are given by wall clock and by CPU time of the process (user + system, all threads): the CPU figure is the one-core rate, the wall figure also counts time lost to other load on the machine (load average at the end: ${load}). Each stage ran ${RUNS} times on the 1M and 250k files (once on the ${SCALE_ROWS.toLocaleString('en-US')}-row file, for memory); the table gives the best run (the one least disturbed by other work on this shared machine, where repeated runs of the same stage differ by up to 2x) and the median. Peak memory is the highest RSS and V8 heap above the level before the stage (worst of the runs), sampled every 5 ms.

${table(['rows', 'file', 'stage', 'wall s (best)', 'CPU s (best)', 'rows/s per CPU s, best', 'rows/s per CPU s, median', 'rows/s wall, median', 'peak RSS +MiB', 'peak heap +MiB'], results)}

Against the aim (500,000 rows/s per stage on one core, 1M rows):
${aims.map((a) => `- ${a}`).join('\n')}

Peak memory against file size (it should not grow with the rows; the V8 heap is what the code holds, RSS also moves with the allocator and GC timing):
${memory.map((m) => `- ${m}`).join('\n')}

The preprocess stage holds a reorder window of 50,000 rows (about 3.6 MB for 9 values a row) whatever the file size; the profile keeps fixed-size sketches and a 1,000-point series per column.
`,
  };
}
