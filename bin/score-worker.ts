/** A scoring thread of `telltale detect`: the fitted model arrives as the first message, then chunks of lines. */
import { parentPort } from 'node:worker_threads';
import { scoreCsvJob, type CsvJob, type CsvScoring } from '../shared/ml/batch/score-csv.js';
import type { WorkerReply } from './score-pool.js';

let scoring: CsvScoring | undefined;

parentPort?.on('message', (message: CsvScoring | CsvJob) => {
  if (!scoring) {
    scoring = message as CsvScoring;
    return;
  }
  try {
    const job = message as CsvJob;
    const result = scoreCsvJob(scoring, job);
    const reply: WorkerReply = { result, body: job.body };
    parentPort?.postMessage(reply, [result.out.buffer as ArrayBuffer, job.body.buffer as ArrayBuffer]);
  } catch (error) {
    parentPort?.postMessage({ error: (error as Error).message });
  }
});
