import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { scoreCsvJob, type CsvJob, type CsvJobResult, type CsvScoring } from '../shared/ml/batch/score-csv.js';

/**
 * Scores chunks once given the fitted model; each job's result comes back on its own promise, in
 * any order. Started before the fit, so the worker threads load their code while the model is fitted.
 */
export interface ChunkScorer {
  /** The fitted model: call once, before the first job. */
  begin(scoring: CsvScoring): void;
  score(job: CsvJob): Promise<CsvJobResult>;
  close(): Promise<void>;
}

/** Beyond this many threads, reading and writing the file on the main thread is the limit. */
export const MAX_WORKERS = 8;

export const defaultWorkers = (): number => Math.min(availableParallelism(), MAX_WORKERS);

/** Jobs a worker holds (the one it scores and the next ones), so it never waits on a round trip through the main thread (3 measured a little faster than 2 with one worker). */
export const WORKER_QUEUE = 3;

/** The result, and the job's body handed back (its memory is reused for a later read). */
export type WorkerReply = { result: CsvJobResult; body: Uint8Array } | { error: string };

interface WorkerThread extends ChunkScorer {
  /** Jobs sent and not yet answered. */
  pending(): number;
}

/**
 * The worker's entry beside this module: the bundle's .mjs in a built CLI, the TypeScript source
 * (through tsx, as the source CLI runs) in a checkout.
 */
function startWorker(): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './score-worker.ts' : './score-worker.mjs', import.meta.url);
  return new Worker(entry, { execArgv: fromSource ? ['--import', import.meta.resolve('tsx')] : [] });
}

/** A worker thread: its first message is the fitted model, then it answers jobs in the order it got them. */
function workerThread(scored: (body: Uint8Array) => void): WorkerThread {
  const waiting: { resolve: (r: CsvJobResult) => void; reject: (e: Error) => void }[] = [];
  const worker = startWorker();
  worker.on('message', (reply: WorkerReply) => {
    const next = waiting.shift();
    if ('result' in reply) {
      scored(reply.body);
      next?.resolve(reply.result);
    } else next?.reject(new Error(reply.error));
  });
  worker.on('error', (error) => {
    for (const w of waiting.splice(0)) w.reject(error);
  });
  return {
    begin: (scoring) => worker.postMessage(scoring),
    score: (job) =>
      new Promise<CsvJobResult>((resolve, reject) => {
        waiting.push({ resolve, reject });
        worker.postMessage(job, [job.context.buffer as ArrayBuffer, job.body.buffer as ArrayBuffer]);
      }),
    pending: () => waiting.length,
    close: async () => {
      await worker.terminate();
    },
  };
}

/** The worker with the fewest jobs, if one has room in its queue. */
function leastBusy(workers: readonly WorkerThread[]): WorkerThread | undefined {
  let free: WorkerThread | undefined;
  for (const w of workers) if (w.pending() < WORKER_QUEUE && (!free || w.pending() < free.pending())) free = w;
  return free;
}

/**
 * `threads` scoring threads: this one and threads - 1 workers (one isolate fewer than a worker per
 * core: each holds tens of MB of buffers between its collections). A job goes to the least busy
 * worker while one has room in its queue, else it is scored here: this thread takes what the
 * workers cannot, so a worker still starting up or slower than this one never holds the run back.
 * `scored` gets each job's body once it is scored, wherever that was.
 */
export function chunkScorer(threads: number, scored: (body: Uint8Array) => void = () => undefined): ChunkScorer {
  const workers = Array.from({ length: threads - 1 }, () => workerThread(scored));
  let scoring: CsvScoring | undefined;
  return {
    begin(s) {
      scoring = s;
      for (const w of workers) w.begin(s);
    },
    async score(job) {
      let free = leastBusy(workers);
      // Replies waiting in the event loop would free a worker: take them in before scoring here
      // (reads and writes rarely make this thread wait for the loop, so it might not otherwise).
      if (!free && workers.length > 0) {
        await new Promise((resolve) => setImmediate(resolve));
        free = leastBusy(workers);
      }
      if (free) return free.score(job);
      const result = scoreCsvJob(scoring!, job);
      scored(job.body);
      return result;
    },
    async close() {
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
