import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { scoreCsvJob, type CsvJob, type CsvJobResult, type CsvScoring } from '../shared/ml/batch/score-csv.js';

/** Scores chunks, on this thread or on worker threads; results come back per job, in any order. */
export interface ChunkScorer {
  score(job: CsvJob): Promise<CsvJobResult>;
  close(): Promise<void>;
}

/** Beyond this many threads, reading and writing the file on the main thread is the limit. */
export const MAX_WORKERS = 8;

export const defaultWorkers = (): number => Math.min(availableParallelism(), MAX_WORKERS);

/** One thread: the chunks are scored in turn on the main thread (no worker to start). */
function inlineScorer(scoring: CsvScoring): ChunkScorer {
  return { score: async (job) => scoreCsvJob(scoring, job), close: async () => undefined };
}

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

/** Worker threads, each given the fitted model once; a job goes to the thread with the fewest waiting. */
function workerScorer(scoring: CsvScoring, count: number): ChunkScorer {
  const threads = Array.from({ length: count }, () => {
    const waiting: { resolve: (r: CsvJobResult) => void; reject: (e: Error) => void }[] = [];
    const worker = startWorker(scoring);
    // A worker answers its jobs in the order it got them.
    worker.on('message', (reply: WorkerReply) => {
      const next = waiting.shift();
      if ('result' in reply) next?.resolve(reply.result);
      else next?.reject(new Error(reply.error));
    });
    worker.on('error', (error) => {
      for (const w of waiting.splice(0)) w.reject(error);
    });
    return { worker, waiting };
  });
  return {
    score(job) {
      const thread = threads.reduce((a, b) => (b.waiting.length < a.waiting.length ? b : a));
      return new Promise<CsvJobResult>((resolve, reject) => {
        thread.waiting.push({ resolve, reject });
        thread.worker.postMessage(job, [job.context.buffer as ArrayBuffer, job.body.buffer as ArrayBuffer]);
      });
    },
    async close() {
      await Promise.all(threads.map((t) => t.worker.terminate()));
    },
  };
}

export function chunkScorer(scoring: CsvScoring, threads: number): ChunkScorer {
  return threads <= 1 ? inlineScorer(scoring) : workerScorer(scoring, threads);
}
