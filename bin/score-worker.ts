/** A scoring thread of `telltale detect`: the fitted model arrives once as workerData, then chunks of lines. */
import { parentPort, workerData } from 'node:worker_threads';
import { scoreCsvJob, type CsvJob, type CsvScoring } from '../shared/ml/batch/score-csv.js';

const scoring = workerData as CsvScoring;

parentPort?.on('message', (job: CsvJob) => {
  try {
    const result = scoreCsvJob(scoring, job);
    parentPort?.postMessage({ result }, [result.out.buffer as ArrayBuffer]);
  } catch (error) {
    parentPort?.postMessage({ error: (error as Error).message });
  }
});
