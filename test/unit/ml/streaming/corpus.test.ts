import { describe, expect, it } from 'vitest';
import { sweepCorpus } from '../../../../shared/ml/metrics/window-sweep.js';
import { corpusKinds, corpusStream, generateCorpus } from '../../../../shared/ml/streaming/corpus.js';
import { StreamingDetector } from '../../../../shared/ml/streaming/detector.js';

describe('generated corpus under the window protocol', () => {
  it('is seeded, and every kind labels its anomalies after the warm-up and probation', () => {
    expect(corpusStream('server_metric', 3).values).toEqual(corpusStream('server_metric', 3).values);
    const corpus = generateCorpus([1, 3]);
    expect(new Set(corpus.map((s) => s.kind))).toEqual(new Set(corpusKinds));
    for (const s of corpus) {
      expect(s.values.every(Number.isFinite)).toBe(true);
      for (const a of s.anomalies) expect(a).toBeGreaterThanOrEqual(600);
    }
    // Flat-then-moving streams sit constant through the detector's warm-up.
    const flat = corpus.find((s) => s.kind === 'flat_then_moving')!;
    expect(new Set(flat.values.slice(0, 400)).size).toBe(1);
  });

  it('the raw score column of the defaults beats the null detector by far on seeds outside both halves, one threshold for all', () => {
    const scored = generateCorpus([101, 102, 103, 104]).map((s) => {
      const detector = new StreamingDetector();
      return { scores: s.values.map((v) => detector.update(v).score), windows: s.windows };
    });
    const result = sweepCorpus(scored);
    expect(result.score).toBeGreaterThan(50);
  });
});
