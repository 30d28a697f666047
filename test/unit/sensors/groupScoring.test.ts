import { describe, expect, it } from 'vitest';
import type { GroupModels, RoutedGroupModel } from '../../../shared/ml/registry/groupPrediction.js';
import type { Matrix } from '../../../shared/ml/multivariate/matrix.js';
import { scoreGroupReadings, type GroupScorerState, type GroupScoringDeps } from '../../../shared/sensors/groupScoring.js';
import type { GroupScoringMessage } from '../../../shared/sensors/groupScoringMessage.js';
import type { StoredReading } from '../../../shared/sensors/readingsStore.js';
import { memoryScoring, memoryStateStore } from '../../fixtures/scoringFakes.js';

const t0 = Date.parse('2026-03-01T00:00:00Z');
const features = ['pump-a-flow', 'pump-a-pressure'];
const champion: RoutedGroupModel = { model: { modelId: 'pump-a-pca', version: 3 }, deployment: { group: 'pump-a', revision: 2, role: 'champion' }, features };
const challenger: RoutedGroupModel = { model: { modelId: 'pump-a-ae', version: 1 }, deployment: { group: 'pump-a', revision: 2, role: 'challenger' }, features };

/** Readings of the two sensors a second apart, pressure sampled 300 ms after flow; pressure jumps to 9 over [fault). */
function plant(n: number, fault: [number, number] = [-1, -1]) {
  return {
    'pump-a-flow': Array.from({ length: n }, (_, i) => ({ timestamp: t0 + i * 1000, value: 5 })),
    'pump-a-pressure': Array.from({ length: n }, (_, i) => ({ timestamp: t0 + i * 1000 + 300, value: i >= fault[0] && i < fault[1] ? 9 : 2 })),
  };
}

/**
 * The group's adapters in memory. The model port is the one thing faked: a row scores 0.9 when its
 * pressure is above 5, with the pressure carrying 80 % of the anomaly (predict's own code is run
 * against ONNX in groupPrediction.test.ts and on the local cloud).
 */
function group(readings: Record<string, StoredReading[]>, routed: RoutedGroupModel | null = champion) {
  const { deps: base, episodes, published } = memoryScoring();
  const { store, states } = memoryStateStore<GroupScorerState>();
  const scoredBy: string[] = [];
  const models: GroupModels = {
    route: async () => routed ?? undefined,
    score: async (_tenant, r, rows: Matrix) => {
      scoredBy.push(`${r.model.modelId}@${r.model.version}`);
      const results = Array.from({ length: rows.rows }, (_, i) => {
        const high = rows.data[i * rows.cols + 1] > 5;
        return { score: high ? 0.9 : 0.1, label: high ? (1 as const) : (0 as const), contributions: [0.2, 0.8] };
      });
      return { threshold: 0.5, results };
    },
  };
  const deps: GroupScoringDeps = {
    states: store,
    episodes: base.episodes,
    events: base.events,
    readings: {
      async *range(_tenant, sensorId, from, to) {
        yield* (readings[sensorId] ?? []).filter((r) => r.timestamp >= from && r.timestamp < to);
      },
    },
    sensors: { get: async () => ({ samplingIntervalSeconds: 1 }) },
    models,
  };
  return { deps, episodes, published, states, scoredBy };
}

const message = (sensorId: string, from: number, to: number): GroupScoringMessage => ({ tenant: 'acme', group: 'pump-a', sensorId, from: t0 + from * 1000, to: t0 + to * 1000 + 300, correlationId: 'c-9' });
const openedOf = (published: { detailType: string; detail: Record<string, unknown> }[]) => published.filter((p) => p.detailType === 'anomaly.opened');

describe("scoring a sensor group's readings with its deployed model", () => {
  it('aligns the sensors within the sampling interval, and an anomaly opens one episode naming the model, its version, the sensors and their contributions', async () => {
    const { deps, published, episodes, states } = group(plant(300, [200, 230]));
    const outcome = await scoreGroupReadings(deps, message('pump-a-pressure', 0, 299));
    expect(outcome).toMatchObject({ scored: 300, unaligned: 0, opened: 1, model: { id: 'pump-a-pca', version: 3, role: 'champion', revision: 2 } });
    const opened = openedOf(published);
    expect(opened).toHaveLength(1);
    expect(opened[0].detail).toMatchObject({
      tenant: 'acme',
      group: 'pump-a',
      sensorId: 'pump-a-flow',
      start: new Date(t0 + 200_000).toISOString(),
      model: { name: 'pump-a-pca', version: '3' },
      sensors: [
        { sensorId: 'pump-a-flow', contribution: 0.2 },
        { sensorId: 'pump-a-pressure', contribution: 0.8 },
      ],
      correlationId: 'c-9',
    });
    expect(states.get('acme/pump-a')).toMatchObject({ version: 1, lastTimestamp: t0 + 299_000, pending: null });

    // The other sensor's message for the same stretch, and a redelivery: nothing new, no second episode.
    expect(await scoreGroupReadings(deps, message('pump-a-flow', 0, 299))).toMatchObject({ scored: 0, opened: 0 });
    expect(await scoreGroupReadings(deps, message('pump-a-pressure', 0, 299))).toMatchObject({ scored: 0, opened: 0 });
    expect(openedOf(published)).toHaveLength(1);
    expect(episodes.size).toBe(1);
  });

  it("its episodes are the group model's, apart from the sensors' own streaming episodes of the same onset", async () => {
    const { deps, published } = group(plant(300, [200, 230]));
    await scoreGroupReadings(deps, message('pump-a-pressure', 0, 299));
    const { deps: other, published: challenged } = group(plant(300, [200, 230]), challenger);
    await scoreGroupReadings(other, message('pump-a-pressure', 0, 299));
    const ids = [...openedOf(published), ...openedOf(challenged)].map((p) => p.detail.episodeId);
    expect(new Set(ids).size).toBe(2);
    expect(openedOf(challenged)[0].detail).toMatchObject({ model: { name: 'pump-a-ae', version: '1' } });
  });

  it("rows whose partner reading has not arrived wait for it, and are scored when the partner's message comes", async () => {
    const all = plant(200, [150, 170]);
    const readings = { 'pump-a-flow': all['pump-a-flow'], 'pump-a-pressure': all['pump-a-pressure'].slice(0, 100) };
    const { deps, published, states } = group(readings);
    // Flow's reading 100 has pressure's 99 (700 ms before) within the interval; 101 on wait.
    expect(await scoreGroupReadings(deps, message('pump-a-flow', 0, 199))).toMatchObject({ scored: 101, unaligned: 99, opened: 0 });
    expect(states.get('acme/pump-a')?.lastTimestamp).toBe(t0 + 100_000);
    readings['pump-a-pressure'] = all['pump-a-pressure'];
    expect(await scoreGroupReadings(deps, message('pump-a-pressure', 100, 199))).toMatchObject({ scored: 99, unaligned: 0, opened: 1 });
    expect(Date.parse(openedOf(published)[0].detail.start as string)).toBe(t0 + 150_000);
  });

  it('a reading with no partner within the sampling interval is left out once the partner sensor has moved past it', async () => {
    const all = plant(100);
    const readings = { 'pump-a-flow': all['pump-a-flow'], 'pump-a-pressure': all['pump-a-pressure'].filter((_, i) => i < 40 || i >= 50) };
    const { deps, states } = group(readings);
    // Flow's readings 41 to 49 are more than a second from pressure's 39 and 50.
    expect(await scoreGroupReadings(deps, message('pump-a-pressure', 0, 99))).toMatchObject({ scored: 91, unaligned: 9 });
    expect(states.get('acme/pump-a')?.lastTimestamp).toBe(t0 + 99_000);
  });

  it('does nothing for a group without deployment, or a sensor its model does not take', async () => {
    const none = group(plant(50), null);
    expect(await scoreGroupReadings(none.deps, message('pump-a-flow', 0, 49))).toMatchObject({ skipped: 'no deployment', scored: 0 });
    expect(none.scoredBy).toEqual([]);
    const other = group(plant(50));
    expect(await scoreGroupReadings(other.deps, message('pump-a-temperature', 0, 49))).toMatchObject({ skipped: 'not a feature', scored: 0 });
    expect(other.states.size).toBe(0);
  });

  it('when another scorer commits the group state first, the loser re-reads and scores only what is left', async () => {
    const { deps, states, published } = group(plant(300, [200, 230]));
    const store = deps.states as typeof deps.states & { beforeSave?: () => Promise<void> };
    let raced = false;
    store.beforeSave = async () => {
      if (raced) return;
      raced = true;
      store.beforeSave = undefined;
      await scoreGroupReadings(deps, message('pump-a-flow', 0, 299));
    };
    const outcome = await scoreGroupReadings(deps, message('pump-a-pressure', 0, 299));
    expect(outcome).toMatchObject({ attempts: 2, scored: 0 });
    expect(states.get('acme/pump-a')).toMatchObject({ version: 1 });
    expect(openedOf(published)).toHaveLength(1);
  });
});
