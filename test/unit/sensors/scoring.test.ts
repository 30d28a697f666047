import { describe, expect, it } from 'vitest';
import { createGaussian, createRng } from '../../../shared/ml/multivariate/rng.js';
import { ConflictError } from '../../../shared/platform/errors.js';
import type { ReadingsMessage } from '../../../shared/sensors/readingMessages.js';
import { scoreReadings } from '../../../shared/sensors/scoring.js';
import { memoryScoring } from '../../fixtures/scoringFakes.js';

const pump = { id: 'pump-1', name: 'Pump 1', type: 'vibration' as const, unit: 'mm/s', group: 'line-a', samplingIntervalSeconds: 1, createdAt: '2026-01-01T00:00:00.000Z' };
const t0 = Date.parse('2026-03-01T00:00:00Z');

/** n readings a second apart from index `from`: noise around 5, and a jump to 9 over [faultFrom, faultTo). */
function readings(from: number, n: number, fault: [number, number] = [-1, -1]): ReadingsMessage['readings'] {
  const noise = createGaussian(createRng(7));
  const all = Array.from({ length: from + n }, (_, i) => ({ timestamp: t0 + i * 1000, value: 5 + 0.1 * noise() + (i >= fault[0] && i < fault[1] ? 4 : 0) }));
  return all.slice(from);
}
const message = (r: ReadingsMessage['readings']): ReadingsMessage => ({ tenant: 'acme', sensorId: 'pump-1', readings: r, correlationId: 'c-1' });
const opened = <P extends { detailType: string }>(published: P[]) => published.filter((p) => p.detailType === 'anomaly.opened');

describe('scoring readings with the sensor streaming detector', () => {
  it('scores every new reading, keeps the state with its version and last timestamp', async () => {
    const { deps, states, scores } = memoryScoring([pump]);
    const outcome = await scoreReadings(deps, message(readings(0, 500)));
    expect(outcome).toMatchObject({ scored: 500, skipped: 0, attempts: 1 });
    expect(scores.get('acme/pump-1')?.size).toBe(500);
    const state = states.get('acme/pump-1')!;
    expect(state).toMatchObject({ version: 1, lastTimestamp: t0 + 499_000, pending: null });
    expect(state.detector.n).toBe(500);
  });

  it('an anomaly opens one episode and one anomaly.opened; a redelivered message scores nothing and publishes nothing', async () => {
    const { deps, published, episodes, states } = memoryScoring([pump]);
    const batch = message(readings(0, 600, [520, 560]));
    const first = await scoreReadings(deps, batch);
    expect(first.opened).toBe(1);
    expect(opened(published)).toHaveLength(1);
    expect(opened(published)[0].detail).toMatchObject({ tenant: 'acme', sensorId: 'pump-1', group: 'line-a', status: 'open', correlationId: 'c-1', model: { name: 'streaming', version: '1' } });
    expect(Date.parse(opened(published)[0].detail.start as string)).toBeGreaterThanOrEqual(t0 + 520_000);

    const again = await scoreReadings(deps, batch);
    expect(again).toMatchObject({ scored: 0, skipped: 600, opened: 0 });
    expect(opened(published)).toHaveLength(1);
    expect(episodes.size).toBe(1);
    expect(states.get('acme/pump-1')!.version).toBe(1);
  });

  it('readings at or before the last scored timestamp, and late ones, are skipped', async () => {
    const { deps, states } = memoryScoring([pump]);
    await scoreReadings(deps, message(readings(0, 100)));
    const overlap = readings(90, 20).map((r, i) => (i === 15 ? { ...r, late: true } : r));
    const outcome = await scoreReadings(deps, message(overlap));
    expect(outcome).toMatchObject({ scored: 9, skipped: 11 });
    expect(states.get('acme/pump-1')).toMatchObject({ version: 2, lastTimestamp: t0 + 109_000 });
    expect(states.get('acme/pump-1')!.detector.n).toBe(109);
  });

  it('when another scorer commits the sensor state first, the loser re-reads, skips what the winner scored and retries', async () => {
    const { deps, stateStore, states, scores } = memoryScoring([pump]);
    await scoreReadings(deps, message(readings(0, 100)));
    let raced = false;
    stateStore.beforeSave = async () => {
      if (raced) return;
      raced = true;
      // The other scorer, holding an overlapping message, commits between our read and our write.
      stateStore.beforeSave = undefined;
      await scoreReadings(deps, message(readings(100, 10)));
    };
    const outcome = await scoreReadings(deps, message(readings(100, 20)));
    expect(outcome).toMatchObject({ attempts: 2, scored: 10, skipped: 10 });
    expect(states.get('acme/pump-1')).toMatchObject({ version: 3, lastTimestamp: t0 + 119_000 });
    expect(states.get('acme/pump-1')!.detector.n).toBe(120);
    expect(scores.get('acme/pump-1')?.size).toBe(120);
  });

  it("a new sensor naming a dataset learns from its history first: its first live readings are scored, and the state counts the history", async () => {
    const { deps, states, published } = memoryScoring([{ ...pump, warmupDatasetId: 'history' }]);
    deps.history = async (_tenant, sensor) => (sensor.warmupDatasetId ? { datasetId: sensor.warmupDatasetId, values: readings(0, 500).map((r) => r.value) } : undefined);
    const live = readings(500, 10).map((r, i) => (i === 9 ? { ...r, value: 9 } : r));
    const outcome = await scoreReadings(deps, message(live));
    expect(outcome).toMatchObject({ scored: 10, opened: 1, warmup: { datasetId: 'history', points: 500 } });
    expect(opened(published)).toHaveLength(1);
    expect(states.get('acme/pump-1')!.detector.n).toBe(510);
    // Only a new sensor: the next message restores the state, the history is not read again.
    deps.history = async () => {
      throw new Error('read again');
    };
    expect((await scoreReadings(deps, message(readings(510, 5)))).warmup).toBeUndefined();
  });

  it('a dataset skipped for a reason leaves the warm-up to the first readings', async () => {
    const { deps } = memoryScoring([{ ...pump, warmupDatasetId: 'gone' }]);
    deps.history = async () => ({ datasetId: 'gone', skipped: 'No dataset "gone".' });
    const outcome = await scoreReadings(deps, message(readings(0, 10).map((r, i) => (i === 9 ? { ...r, value: 9 } : r))));
    expect(outcome).toMatchObject({ opened: 0, warmup: { datasetId: 'gone', skipped: 'No dataset "gone".' } });
  });

  it('gives the message back (409) when other scorers keep winning', async () => {
    const { deps, stateStore } = memoryScoring([pump]);
    stateStore.save = async () => false;
    await expect(scoreReadings(deps, message(readings(0, 10)))).rejects.toBeInstanceOf(ConflictError);
  });

  it('a scorer that crashes after committing leaves its episode changes pending; the redelivery applies them once', async () => {
    const { deps, episodeStore, published, scores, states } = memoryScoring([pump]);
    const batch = message(readings(0, 600, [520, 560]));
    const save = episodeStore.save;
    episodeStore.save = async () => {
      throw new Error('crash');
    };
    await expect(scoreReadings(deps, batch)).rejects.toThrow('crash');
    expect(states.get('acme/pump-1')!.pending?.episodes).toHaveLength(1);
    expect(scores.get('acme/pump-1')?.size).toBe(600);
    expect(published).toHaveLength(0);

    episodeStore.save = save;
    const redelivered = await scoreReadings(deps, batch);
    expect(redelivered).toMatchObject({ scored: 0, skipped: 600 });
    expect(opened(published)).toHaveLength(1);
    expect(states.get('acme/pump-1')!.pending).toBeNull();
    await scoreReadings(deps, batch);
    expect(opened(published)).toHaveLength(1);
  });

  it('a scorer that crashes before committing leaves nothing: the redelivery scores the same readings to the same scores, and opens the episode once', async () => {
    const { deps, published, scores, states } = memoryScoring([pump]);
    const batch = message(readings(0, 600, [520, 560]));
    const reference = memoryScoring([pump]);
    await scoreReadings(reference.deps, batch);
    const save = deps.states.save;
    deps.states.save = async () => {
      throw new Error('crash');
    };
    await expect(scoreReadings(deps, batch)).rejects.toThrow('crash');
    expect(states.size).toBe(0);
    deps.states.save = save;
    expect(await scoreReadings(deps, batch)).toMatchObject({ scored: 600, opened: 1 });
    expect(opened(published)).toHaveLength(1);
    expect([...scores.get('acme/pump-1')!.values()]).toEqual([...reference.scores.get('acme/pump-1')!.values()]);
  });

  it('a batch without episode changes commits no pending effects, so nothing is left to clear', async () => {
    const { deps, stateStore, states } = memoryScoring([pump]);
    let clears = 0;
    stateStore.clearPending = async () => void (clears += 1);
    await scoreReadings(deps, message(readings(0, 300)));
    expect(states.get('acme/pump-1')!.pending).toBeNull();
    expect(clears).toBe(0);
  });

  it('an event published but not noted before a crash goes out again only once its claim lapses, with the same event id', async () => {
    const { deps, episodeStore, published } = memoryScoring([pump]);
    let now = t0;
    deps.now = () => now;
    const markNotified = episodeStore.markNotified;
    episodeStore.markNotified = async () => {
      throw new Error('crash');
    };
    await expect(scoreReadings(deps, message(readings(0, 600, [520, 560])))).rejects.toThrow('crash');
    episodeStore.markNotified = markNotified;
    // The message comes back after the queue's visibility timeout, long after the dead scorer's claim lapsed.
    now += 360_000;
    await scoreReadings(deps, message(readings(0, 600, [520, 560])));
    // The crash fell between the publish and the note: the event went out twice, with one event id to de-duplicate on.
    expect(opened(published)).toHaveLength(2);
    expect(new Set(opened(published).map((p) => p.detail.eventId))).toEqual(new Set([`${opened(published)[0].detail.episodeId as string}:opened`]));
  });

  it('two scorers applying the same episode change side by side publish its event once', async () => {
    const { deps, published } = memoryScoring([pump]);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let publishing = false;
    const publish = deps.events.publish;
    deps.events = {
      publish: async (type, detail) => {
        if (!publishing) {
          publishing = true;
          await gate;
        }
        await publish(type, detail);
      },
    };
    const batch = message(readings(0, 600, [520, 560]));
    const first = scoreReadings(deps, batch);
    while (!publishing) await new Promise((resolve) => setTimeout(resolve, 5));
    // The first scorer committed its state and holds the claim; the second finds the pending change and applies it too.
    const second = scoreReadings(deps, batch);
    await new Promise((resolve) => setTimeout(resolve, 150));
    release();
    await Promise.all([first, second]);
    expect(opened(published)).toHaveLength(1);
  });

  it('a publish that fails gives its claim back: the retry publishes at once', async () => {
    const { deps, published } = memoryScoring([pump]);
    const publish = deps.events.publish;
    let failures = 1;
    deps.events = {
      publish: async (type, detail) => {
        if (failures-- > 0) throw new Error('PutEvents throttled');
        await publish(type, detail);
      },
    };
    const batch = message(readings(0, 600, [520, 560]));
    await expect(scoreReadings(deps, batch)).rejects.toThrow('throttled');
    await scoreReadings(deps, batch);
    expect(opened(published)).toHaveLength(1);
  });

  it("a grouped sensor's readings are announced to its group's model scorer, redeliveries too; an ungrouped sensor's are not", async () => {
    const { deps } = memoryScoring([pump, { ...pump, id: 'loose-1', group: undefined }]);
    const sent: unknown[] = [];
    deps.groupScoring = { send: async (m) => void sent.push(m) };
    const batch = message(readings(0, 50));
    await scoreReadings(deps, batch);
    await scoreReadings(deps, batch);
    expect(sent).toEqual([
      { tenant: 'acme', group: 'line-a', sensorId: 'pump-1', from: t0, to: t0 + 49_000, correlationId: 'c-1' },
      { tenant: 'acme', group: 'line-a', sensorId: 'pump-1', from: t0, to: t0 + 49_000, correlationId: 'c-1' },
    ]);
    await scoreReadings(deps, { ...message(readings(0, 10)), sensorId: 'loose-1' });
    expect(sent).toHaveLength(2);
  });
});
