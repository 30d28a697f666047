import { describe, expect, it } from 'vitest';
import { labelPoints } from '../../../shared/sensors/anomalies.js';
import { NotFoundError, UnprocessableError } from '../../../shared/platform/errors.js';
import { alignReadings, labelledHistory, labelledHistoryCsv, MAX_HISTORY_ROWS } from '../../../shared/sensors/labelledHistory.js';
import type { StoredReading } from '../../../shared/sensors/readingsStore.js';
import { memoryScoring } from '../../fixtures/scoringFakes.js';

const at = (pairs: [number, number][]) => pairs.map(([timestamp, value]) => ({ timestamp, value }));

describe('readings aligned into rows', () => {
  it('pairs each reading of the first sensor with the nearest of the others within the tolerance, and drops rows that have none', () => {
    const a = at([[1000, 1], [2000, 2], [3000, 3], [4000, 4]]);
    const b = at([[1100, 10], [1950, 20], [3700, 30], [4050, 40]]);
    const rows = alignReadings([a, b], 500);
    expect(rows.timestamps).toEqual([1000, 2000, 4000]);
    expect(Array.from(rows.matrix.data)).toEqual([1, 10, 2, 20, 4, 40]);
    expect(rows).toMatchObject({ droppedRows: 1, matrix: { rows: 3, cols: 2 } });
  });

  it('a single sensor is its own rows', () => {
    expect(alignReadings([at([[5, 1], [6, 2]])], 1)).toMatchObject({ timestamps: [5, 6], droppedRows: 0, matrix: { rows: 2, cols: 1 } });
  });
});

describe('labelled history from the verdicts', () => {
  it('labels 1 the rows inside confirmed episodes of any of the sensors, not rejected or unjudged ones', async () => {
    const { episodeStore } = memoryScoring();
    const episode = (id: string, sensorId: string, start: number, end: number) => ({
      revision: 1,
      episode: {
        id, sensorId, status: 'closed' as const, start: new Date(start).toISOString(), end: new Date(end).toISOString(), peakScore: 0.9, peakAt: new Date(start).toISOString(),
        severity: 'critical' as const, kind: null, points: 3, sensors: [{ sensorId, contribution: 1 }], model: { name: 'streaming', version: '1' },
      },
    });
    await episodeStore.save('acme', episode('ep-a', 'p', 3000, 4000));
    await episodeStore.save('acme', episode('ep-b', 'q', 6000, 6000));
    await episodeStore.save('acme', episode('ep-c', 'p', 8000, 9000));
    await episodeStore.recordVerdict('acme', 'ep-a', { verdict: 'confirmed', by: 'ana', at: '2026-03-01T00:00:00.000Z' });
    await episodeStore.recordVerdict('acme', 'ep-b', { verdict: 'confirmed', by: 'ana', at: '2026-03-01T00:00:00.000Z' });
    await episodeStore.recordVerdict('acme', 'ep-c', { verdict: 'rejected', by: 'ana', at: '2026-03-01T00:00:00.000Z' });
    const series = (offset: number): StoredReading[] => Array.from({ length: 10 }, (_, i) => ({ timestamp: (i + 1) * 1000 + offset, value: i }));
    const readings = {
      async *range(_tenant: string, sensorId: string, from: number, to: number) {
        for (const r of series(sensorId === 'p' ? 0 : 100)) if (r.timestamp >= from && r.timestamp < to) yield r;
      },
    };
    const history = await labelledHistory({ readings, episodes: episodeStore }, 'acme', { sensorIds: ['p', 'q'], from: 0, to: 20_000, toleranceMs: 1000 });
    expect(history.timestamps).toHaveLength(10);
    expect(history.labels).toEqual([0, 0, 1, 1, 0, 1, 0, 0, 0, 0]);
    expect(labelPoints([2999, 3000, 4000, 4001], [{ start: 3000, end: 4000 }])).toEqual([0, 1, 1, 0]);
  });
});

describe('the labelled history as CSV', () => {
  const series = (n: number, offset = 0): StoredReading[] => Array.from({ length: n }, (_, i) => ({ timestamp: i * 1000 + offset, value: i }));
  const depsOf = (readings: Record<string, StoredReading[]>) => ({
    ...memoryScoring().deps,
    readings: {
      async *range(_tenant: string, sensorId: string, from: number, to: number) {
        yield* (readings[sensorId] ?? []).filter((r) => r.timestamp >= from && r.timestamp < to);
      },
    },
    sensors: { get: async (_tenant: string, id: string) => (id in readings ? { samplingIntervalSeconds: 1 } : undefined) },
  });

  it('writes a header of the sensors and label, one aligned row per reading of the first sensor', async () => {
    const csv = await labelledHistoryCsv(depsOf({ p: series(3), q: series(3, 200) }), 'acme', { sensorIds: ['p', 'q'], from: 0, to: 10_000 });
    expect(csv).toBe(['timestamp,p,q,label', '1970-01-01T00:00:00.000Z,0,0,0', '1970-01-01T00:00:01.000Z,1,1,0', '1970-01-01T00:00:02.000Z,2,2,0', ''].join('\n'));
  });

  it('refuses an unknown sensor (404) and a range of more rows than an evaluation reads (422)', async () => {
    await expect(labelledHistoryCsv(depsOf({ p: series(3) }), 'acme', { sensorIds: ['p', 'ghost'], from: 0, to: 10_000 })).rejects.toBeInstanceOf(NotFoundError);
    const large = depsOf({ p: series(MAX_HISTORY_ROWS + 1) });
    await expect(labelledHistoryCsv(large, 'acme', { sensorIds: ['p'], from: 0, to: (MAX_HISTORY_ROWS + 2) * 1000 })).rejects.toBeInstanceOf(UnprocessableError);
  });
});
