import { describe, expect, it } from 'vitest';
import { chunkScorer } from '../../../bin/score-pool.js';
import { scoreCsvJob, type CsvJob, type CsvScoring } from '../../../shared/ml/batch/score-csv.js';
import { fitDetector } from '../../../shared/ml/multivariate/index.js';
import { createGaussian, createRng } from '../../../shared/ml/multivariate/rng.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

describe('the pool of scoring threads', () => {
  it('scores every job as this thread alone would, on the worker and here, and hands back each body once', async () => {
    const g = createGaussian(createRng(9));
    const train = Float64Array.from({ length: 600 }, () => g());
    const scoring: CsvScoring = { detector: fitDetector({ rows: 300, cols: 2, data: train }, { detector: 'pca' }), layout: { delimiter: ',', width: 3, columns: [1, 2] }, scoredFromOffset: 0 };
    const text = (k: number) => Array.from({ length: 200 }, (_, r) => `t${k}-${r},${g().toFixed(4)},${g().toFixed(4)}\n`).join('');
    const bodies = Array.from({ length: 12 }, (_, k) => encoder.encode(text(k)));
    const jobs: CsvJob[] = bodies.map((body) => ({ context: new Uint8Array(0), body: body.slice(), offset: 0 }));
    const expected = jobs.map((job) => decoder.decode(scoreCsvJob(scoring, { ...job, body: job.body.slice() }).out));
    const handedBack: Uint8Array[] = [];
    const scorer = chunkScorer(2, (body) => handedBack.push(body));
    try {
      scorer.begin(scoring);
      const results = await Promise.all(jobs.map((job) => scorer.score(job)));
      expect(results.map((r) => decoder.decode(r.out))).toEqual(expected);
    } finally {
      await scorer.close();
    }
    expect(handedBack.map((b) => decoder.decode(b)).sort()).toEqual(bodies.map((b) => decoder.decode(b)).sort());
    // A job moved to the worker leaves its body's memory there (detached here); the first ones go to
    // the worker, which is still starting when the rest come, so this thread scores those.
    const moved = jobs.filter((job) => job.body.byteLength === 0).length;
    expect(moved).toBeGreaterThanOrEqual(2);
    expect(moved).toBeLessThan(jobs.length);
  });
});
