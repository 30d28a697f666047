import { describe, expect, it } from 'vitest';
import { episodeId, episodePolicy, trackEpisodes, type ScoredPoint, type TrackerState } from '../../../shared/sensors/episodes.js';

const policy = { openAbove: 0.6, closeBelow: 0.4, quietMs: 10_000 };
/** One point a second from t0, with these scores. */
const points = (scores: readonly number[], t0 = 1_000_000): ScoredPoint[] => scores.map((score, i) => ({ timestamp: t0 + i * 1000, score, kind: null }));
const quiet = (n: number) => Array<number>(n).fill(0.05);
const empty: TrackerState = { active: null };

describe('anomaly episodes with hysteresis', () => {
  it('one onset opens one episode that grows while the anomaly lasts and records its peak', () => {
    const { state, changes } = trackEpisodes(empty, points([...quiet(5), 0.7, 0.95, 0.5, 0.8, ...quiet(3)]), policy);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ status: 'open', events: ['opened'] });
    expect(changes[0].episode).toMatchObject({ onset: 1_005_000, lastActive: 1_008_000, peakScore: 0.95, peakAt: 1_006_000, points: 4 });
    expect(state.active?.onset).toBe(1_005_000);
  });

  it('flapping around the threshold within the quiet period gives one episode, not ten', () => {
    const flapping = Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? 0.65 : 0.2));
    const { changes } = trackEpisodes(empty, points(flapping), policy);
    expect(changes).toHaveLength(1);
    expect(changes[0].events).toEqual(['opened']);
  });

  it('closes after the quiet period under the lower threshold, and a later onset is a new episode', () => {
    const { state, changes } = trackEpisodes(empty, points([0.9, 0.3, ...quiet(9), 0.1, ...quiet(3), 0.7]), policy);
    expect(changes.map((c) => [c.status, c.events])).toEqual([
      ['closed', ['opened', 'closed']],
      ['open', ['opened']],
    ]);
    expect(changes[0].episode.lastActive).toBe(1_000_000);
    expect(changes[0].closedAt).toBe(1_010_000);
    expect(state.active?.onset).toBe(1_015_000);
  });

  it('a score between the thresholds keeps an open episode alive but never opens one', () => {
    expect(trackEpisodes(empty, points([0.5, 0.55, 0.45]), policy).changes).toEqual([]);
    const alive = trackEpisodes(empty, points([0.7, ...Array<number>(30).fill(0.45)]), policy);
    expect(alive.changes).toHaveLength(1);
    expect(alive.changes[0]).toMatchObject({ status: 'open', events: ['opened'] });
  });

  it('batches give the episodes one long batch gives; each batch that changes an episode bumps its revision', () => {
    const scores = [...quiet(3), 0.8, 0.3, 0.7, ...quiet(12), 0.9, 0.2];
    const whole = trackEpisodes(empty, points(scores), policy);
    const first = trackEpisodes(empty, points(scores.slice(0, 5)), policy);
    const second = trackEpisodes(first.state, points(scores.slice(5), 1_005_000), policy);
    expect(second.state).toEqual(whole.state);
    expect(first.changes[0].episode.revision).toBe(1);
    expect(second.changes[0]).toMatchObject({ status: 'closed', events: ['closed'], episode: { onset: 1_003_000, revision: 2 } });
  });

  it('the episode id depends only on tenant, sensor and onset', () => {
    expect(episodeId('acme', 'pump-1', 5)).toBe(episodeId('acme', 'pump-1', 5));
    expect(episodeId('acme', 'pump-1', 5)).toMatch(/^ep-[0-9a-f]{24}$/);
    expect(new Set([episodeId('acme', 'pump-1', 5), episodeId('acme', 'pump-1', 6), episodeId('acme', 'pump-2', 5), episodeId('other', 'pump-1', 5)]).size).toBe(4);
  });

  it('the policy closes below two thirds of the threshold after 30 sampling intervals, a minute at least', () => {
    expect(episodePolicy(0.6, 10)).toEqual({ openAbove: 0.6, closeBelow: expect.closeTo(0.4, 10), quietMs: 300_000 });
    expect(episodePolicy(0.6, 1).quietMs).toBe(60_000);
  });
});
