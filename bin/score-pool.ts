import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { scoreCsvJob, type CsvJob, type CsvJobResult, type CsvScoring } from '../shared/ml/batch/score-csv.js';

/** Scores chunks; each job's result comes back on its own promise, in any order. */
export interface ChunkScorer {
  score(job: CsvJob): Promise<CsvJobResult>;
  close(): Promise<void>;
}

/** Beyond this many threads, reading and writing the file on the main thread is the limit. */
export const MAX_WORKERS = 8;

export const defaultWorkers = (): number => Math.min(availableParallelism(), MAX_WORKERS);

type WorkerReply = { result: CsvJobResult } | { error: string };

/**
 * The worker's entry beside this module: the bundle's .mjs in a built CLI, the TypeScript source
 * (through tsx, as the source CLI runs) in a checkout.
 */
function startWorker(scoring: CsvScoring): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './score-worker.ts' : './score-worker.mjs', import.meta.url);
  return new Worker(entry, { workerData: scoring, execArgv: fromSource ? ['--import', import.meta.resolve('tsx')] : [] });
}

/** A worker thread given the fitted model once; it answers its jobs in the order it got them. */
function workerThread(scoring: CsvScoring): ChunkScorer {
  const waiting: { resolve: (r: CsvJobResult) => void; reject: (e: Error) => void }[] = [];
  const worker = startWorker(scoring);
  worker.on('message', (reply: WorkerReply) => {
    const next = waiting.shift();
    if ('result' in reply) next?.resolve(reply.result);
    else next?.reject(new Error(reply.error));
  });
  worker.on('error', (error) => {
    for (const w of waiting.splice(0)) w.reject(error);
  });
  return {
    score: (job) =>
      new Promise<CsvJobResult>((resolve, reject) => {
        waiting.push({ resolve, reject });
        worker.postMessage(job, [job.context.buffer as ArrayBuffer, job.body.buffer as ArrayBuffer]);
      }),
    close: async () => {
      await worker.terminate();
    },
  };
}

/**
 * `threads` scoring threads taking the chunks in turn: this one (between reading and writing, which
 * take little) and threads - 1 workers. One isolate fewer than a worker per core: each holds tens of
 * MB of buffers between its collections.
 */
export function chunkScorer(scoring: CsvScoring, threads: number): ChunkScorer {
  const workers = Array.from({ length: threads - 1 }, () => workerThread(scoring));
  let turn = 0;
  return {
    score(job) {
      const k = turn++ % threads;
      return k === 0 ? new Promise((resolve) => resolve(scoreCsvJob(scoring, job))) : workers[k - 1].score(job);
    },
    async close() {
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
