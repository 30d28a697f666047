import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { confusion, pointwiseMetrics, addConfusions } from '../../../../shared/ml/metrics/pointwise.js';
import { prAuc, rocAuc } from '../../../../shared/ml/metrics/ranking.js';
import { eventWindowScore, labelledWindows } from '../../../../shared/ml/metrics/event-window.js';
import { InvalidInputError } from '../../../../shared/ml/multivariate/errors.js';
import { createRng } from '../../../../shared/ml/multivariate/rng.js';

describe('point-wise metrics', () => {
  it('counts the confusion matrix and derives F1, FAR and MAR as SKAB defines them', () => {
    const c = confusion([1, 1, 1, 0, 0, 0, 0, 1], [1, 1, 0, 1, 0, 0, 0, 0]);
    expect(c).toEqual({ tp: 2, fn: 2, fp: 1, tn: 3 });
    const m = pointwiseMetrics(c);
    expect(m.f1).toBeCloseTo(2 / (2 + 1.5), 12);
    expect(m.f1).toBeCloseTo((2 * m.precision * m.recall) / (m.precision + m.recall), 12);
    expect(m.far).toBeCloseTo(0.25, 12);
    expect(m.mar).toBeCloseTo(0.5, 12);
    expect(addConfusions([c, c]).tp).toBe(4);
  });

  it('refuses mismatched lengths', () => {
    expect(() => confusion([1, 0], [1])).toThrow(InvalidInputError);
  });
});

describe('ranking metrics', () => {
  const rng = createRng(2);
  const truth = Array.from({ length: 300 }, () => (rng() < 0.3 ? 1 : 0));
  const scores = truth.map((t) => Math.round((t + rng() * 1.5) * 10) / 10); // ties on purpose

  it('ROC AUC equals the pairwise probability with ties as half', () => {
    let wins = 0;
    let pairs = 0;
    truth.forEach((ti, i) => truth.forEach((tj, j) => {
      if (ti === 1 && tj === 0) {
        pairs++;
        wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
      }
    }));
    expect(rocAuc(truth, scores)).toBeCloseTo(wins / pairs, 12);
  });

  it('PR AUC is 1 for a perfect ranking and the positive share for a constant score', () => {
    expect(prAuc(truth, truth)).toBeCloseTo(1, 12);
    const share = truth.reduce<number>((a, b) => a + b, 0) / truth.length;
    expect(prAuc(truth, truth.map(() => 0.5))).toBeCloseTo(share, 12);
    expect(() => rocAuc([0, 0], [1, 2])).toThrow(/both classes/);
  });
});

describe('event-window score', () => {
  const truth = [0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0];

  it('scores 100 for alarms at each window start, 0 for no alarm, and rewards earlier detection', () => {
    expect(labelledWindows(truth)).toEqual([[3, 8], [12, 17]]);
    const atStart = truth.map((_, i) => (i === 3 || i === 12 ? 1 : 0));
    expect(eventWindowScore(truth, atStart).score).toBeCloseTo(100, 9);
    expect(eventWindowScore(truth, truth.map(() => 0)).score).toBeCloseTo(0, 9);
    const late = truth.map((_, i) => (i === 6 || i === 15 ? 1 : 0));
    const lateScore = eventWindowScore(truth, late).score;
    expect(lateScore).toBeGreaterThan(0);
    expect(lateScore).toBeLessThan(100);
  });

  it('charges each false alarm onset outside the windows', () => {
    const withFalse = truth.map((t, i) => (i === 3 || i === 12 || i === 0 || i === 10 ? 1 : 0));
    const r = eventWindowScore(truth, withFalse);
    expect(r.falseAlarms).toBe(2);
    expect(r.score).toBeCloseTo((100 * (2 - 0.22 + 2)) / 4, 9);
  });
});

const SCORER = path.resolve(import.meta.dirname, '../../../../../shared/tools/skab_score.py');
const FIXTURES = path.resolve(import.meta.dirname, '../../../fixtures/skab');
const hasPython = (() => {
  try {
    execFileSync('python3', ['--version'], { stdio: 'pipe' });
    return existsSync(SCORER);
  } catch {
    return false;
  }
})();

describe.skipIf(!hasPython)('pooled SKAB metrics agree with skab_score.py', () => {
  it('on the SKAB fixtures with pseudo-random predictions', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'skab-check-'));
    try {
      mkdirSync(path.join(dir, 'pred', 'valve1'), { recursive: true });
      cpSync(FIXTURES, path.join(dir, 'data'), { recursive: true });
      const rng = createRng(4);
      const parts = ['1.csv', '5.csv'].map((name) => {
        const lines = readFileSync(path.join(FIXTURES, 'valve1', name), 'utf8').split(/\r?\n/).filter(Boolean).slice(1).map((l) => l.split(';'));
        const truth = lines.map((c) => Number(c[9]));
        const predicted = truth.map((t) => (rng() < (t ? 0.7 : 0.2) ? 1 : 0));
        writeFileSync(path.join(dir, 'pred', 'valve1', name), ['datetime;anomaly', ...lines.map((c, i) => `${c[0]};${predicted[i]}`)].join('\n'));
        return confusion(truth.slice(400), predicted.slice(400));
      });
      const ours = pointwiseMetrics(addConfusions(parts));
      const out = path.join(dir, 'out.json');
      execFileSync('python3', [SCORER, '--skab', path.join(dir, 'data'), '--groups', 'valve1', '--allow-missing', '--json', out, path.join(dir, 'pred')], { stdio: 'pipe' });
      const theirs = (JSON.parse(readFileSync(out, 'utf8')) as Record<string, { outlier: { F1: number; FAR_pct: number; MAR_pct: number; TP: number } }>)[path.join(dir, 'pred')].outlier;
      expect(theirs.TP).toBe(ours.tp);
      expect(ours.f1).toBeCloseTo(theirs.F1, 10);
      expect(100 * ours.far).toBeCloseTo(theirs.FAR_pct, 8);
      expect(100 * ours.mar).toBeCloseTo(theirs.MAR_pct, 8);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
