import { describe, expect, it } from 'vitest';
import { poolEventScores, scoreEvents } from '../../../../shared/ml/streaming/eventScore.js';

const labelsAt = (n: number, on: readonly number[]): boolean[] => Array.from({ length: n }, (_, i) => on.includes(i));

describe('scoreEvents', () => {
  it('rewards early detection more than late detection', () => {
    const windows = [{ start: 10, end: 30 }];
    const early = scoreEvents(labelsAt(100, [10]), windows);
    const late = scoreEvents(labelsAt(100, [28]), windows);
    expect(early.score).toBeGreaterThan(late.score);
    expect(early.score).toBeCloseTo(100, 0);
    expect(early.outcomes[0].delay).toBe(0);
  });

  it('scores a silent detector 0 and penalises false alarm onsets, not their length', () => {
    const windows = [{ start: 10, end: 30 }];
    expect(scoreEvents(labelsAt(100, []), windows).score).toBe(0);
    const withRun = scoreEvents(labelsAt(100, [10, 50, 51, 52]), windows);
    expect(withRun.falseAlarms).toBe(1);
    expect(withRun.falseAlarmPoints).toBe(3);
    const pooled = poolEventScores([withRun, scoreEvents(labelsAt(100, []), windows)]);
    expect(pooled.windows).toBe(2);
    expect(pooled.detected).toBe(1);
  });
});
