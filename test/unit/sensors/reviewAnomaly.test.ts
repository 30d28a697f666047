import { describe, expect, it } from 'vitest';
import { anomalyReviewed } from '../../../shared/ml/registry/verdictLabels.js';
import { NotFoundError } from '../../../shared/platform/errors.js';
import { reviewAnomaly } from '../../../shared/sensors/anomalies.js';
import { episodeSnapshot } from '../../../shared/sensors/episode.js';
import { memoryScoring } from '../../fixtures/scoringFakes.js';

const t0 = Date.parse('2026-03-01T00:00:00Z');

describe('a verdict on an episode', () => {
  it('is recorded with who and when, and announced as anomaly.reviewed with the sensors and the anomalous span (not the quiet period after it)', async () => {
    const { deps, published } = memoryScoring();
    const change = { episode: { onset: t0, lastActive: t0 + 40_000, peakScore: 0.9, peakAt: t0 + 10_000, kind: null, points: 30, revision: 2 }, status: 'closed' as const, closedAt: t0 + 100_000, events: ['closed' as const] };
    const snapshot = episodeSnapshot('acme', { id: 'press-1-flow', group: 'press-1' }, change, { name: 'press-pca', version: '1' }, {
      key: 'press-1/press-pca@1',
      sensors: [
        { sensorId: 'press-1-flow', contribution: 0.3 },
        { sensorId: 'press-1-pressure', contribution: 0.7 },
      ],
    });
    await deps.episodes.save('acme', snapshot);
    const at = new Date(t0 + 3_600_000);
    const reviewed = await reviewAnomaly(deps, 'acme', snapshot.episode.id, { verdict: 'confirmed', note: 'leak' }, 'operator-ana', at);
    expect(reviewed.verdict).toEqual({ verdict: 'confirmed', note: 'leak', by: 'operator-ana', at: at.toISOString() });
    expect(published).toHaveLength(1);
    expect(published[0].detailType).toBe('anomaly.reviewed');
    expect(anomalyReviewed.parse(published[0].detail)).toEqual({
      tenant: 'acme',
      episodeId: snapshot.episode.id,
      sensorIds: ['press-1-flow', 'press-1-pressure'],
      start: new Date(t0).toISOString(),
      end: new Date(t0 + 40_000).toISOString(),
      verdict: 'confirmed',
      at: at.toISOString(),
    });
  });

  it('on an unknown episode is a 404 and announces nothing', async () => {
    const { deps, published } = memoryScoring();
    await expect(reviewAnomaly(deps, 'acme', 'ep-none', { verdict: 'rejected' }, 'operator-ana')).rejects.toBeInstanceOf(NotFoundError);
    expect(published).toEqual([]);
  });
});
