import { describe, expect, it } from 'vitest';
import { promote, setChallenger } from '../../../shared/mlops/deploymentRules.js';
import { chooseRole, routingPoint } from '../../../shared/mlops/routing.js';

const now = new Date('2026-01-01T00:00:00Z');
const champion = promote(undefined, 'pump-1', { modelId: 'a', version: 1 }, now);
const withShare = (share: number) => setChallenger(champion, 'pump-1', { modelId: 'b', version: 1 }, share, now);
const keys = Array.from({ length: 20_000 }, (_, i) => `request-${i}`);
const challengerShare = (share: number) => {
  const deployment = withShare(share);
  return keys.filter((k) => chooseRole(deployment, k) === 'challenger').length / keys.length;
};

describe('routing between champion and challenger', () => {
  it('sends about trafficShare of many routing keys to the challenger', () => {
    for (const share of [0.05, 0.2, 0.5]) expect(Math.abs(challengerShare(share) - share), `share ${share}`).toBeLessThan(0.015);
  });

  it('is deterministic per key, and raising the share only moves keys to the challenger', () => {
    const low = withShare(0.1);
    const high = withShare(0.4);
    for (const k of keys.slice(0, 2000)) {
      expect(chooseRole(low, k)).toBe(chooseRole(low, k));
      if (chooseRole(low, k) === 'challenger') expect(chooseRole(high, k)).toBe('challenger');
    }
  });

  it('spreads similar keys over [0, 1) and routes the same key independently in different groups', () => {
    const points = keys.map((k) => routingPoint('pump-1', k));
    const deciles = new Array<number>(10).fill(0);
    expect(points.every((p) => p >= 0 && p < 1)).toBe(true);
    for (const p of points) deciles[Math.floor(p * 10)]++;
    for (const d of deciles) expect(Math.abs(d / keys.length - 0.1)).toBeLessThan(0.01);
    const agree = keys.filter((k) => routingPoint('pump-1', k) < 0.5 === routingPoint('pump-2', k) < 0.5).length / keys.length;
    expect(Math.abs(agree - 0.5)).toBeLessThan(0.02);
  });

  it('routes by the random source without a key, and always to the champion without a challenger', () => {
    const d = withShare(0.3);
    expect(chooseRole(d, undefined, () => 0.29)).toBe('challenger');
    expect(chooseRole(d, undefined, () => 0.3)).toBe('champion');
    expect(chooseRole(champion, 'any', () => 0)).toBe('champion');
    expect(chooseRole(champion, undefined, () => 0)).toBe('champion');
  });
});
