import { describe, expect, it } from 'vitest';
import { createGaussian, createRng } from '../../../shared/ml/multivariate/rng.js';
import { DependencyError } from '../../../shared/platform/errors.js';
import type { ReadingsMessage } from '../../../shared/sensors/readingMessages.js';
import { scoreReadings, type ScoringDeps } from '../../../shared/sensors/scoring.js';
import { memoryScoring } from '../../fixtures/scoringFakes.js';

const t0 = Date.parse('2026-03-01T00:00:00Z');
const SENSORS = 4;
const READINGS = 1200;
const PER_MESSAGE = 40;

/** Each sensor's messages, in time order; sensor k has a level jump over a stretch, and sensor 0 two of them. */
function messages(): ReadingsMessage[][] {
  return Array.from({ length: SENSORS }, (_, k) => {
    const noise = createGaussian(createRng(100 + k));
    const faults = k === 0 ? [[500, 540], [900, 930]] : [[600 + 50 * k, 640 + 50 * k]];
    const readings = Array.from({ length: READINGS }, (_, i) => ({
      timestamp: t0 + i * 1000,
      value: 3 + 0.1 * noise() + (faults.some(([a, b]) => i >= a && i < b) ? 3 : 0),
    }));
    return Array.from({ length: READINGS / PER_MESSAGE }, (_, m) => ({ tenant: 'acme', sensorId: `s${k}`, readings: readings.slice(m * PER_MESSAGE, (m + 1) * PER_MESSAGE) }));
  });
}

type Fault = 'before' | 'after';

/**
 * Wraps every port the scorer calls: with probability `rate` a call fails before it does anything
 * (a throttled write), or does its work and then fails (a scorer that dies right after it).
 */
function chaotic(deps: ScoringDeps, rate: number, seed: number): { deps: ScoringDeps; injected: Record<Fault, number>; afterPublish: () => number } {
  const rng = createRng(seed);
  const injected: Record<Fault, number> = { before: 0, after: 0 };
  let afterPublish = 0;
  const wrap = <T extends object>(port: T, name: string): T =>
    Object.fromEntries(
      Object.entries(port).map(([method, fn]) => [
        method,
        async (...args: unknown[]) => {
          if (rng() < rate) {
            injected.before += 1;
            // A note of a sent event that fails leaves the event sent and not noted, as a death after the publish does.
            if (name === 'episodes' && method === 'markNotified') afterPublish += 1;
            throw new DependencyError(`${name}.${method} throttled`);
          }
          const result = await (fn as (...a: unknown[]) => Promise<unknown>).apply(port, args);
          if (rng() < rate / 3) {
            injected.after += 1;
            if (name === 'events') afterPublish += 1;
            throw new Error(`scorer died after ${name}.${method}`);
          }
          return result;
        },
      ]),
    ) as T;
  return {
    deps: { ...deps, states: wrap(deps.states, 'states'), episodes: wrap(deps.episodes, 'episodes'), scores: wrap(deps.scores, 'scores'), events: wrap(deps.events, 'events') },
    injected,
    afterPublish: () => afterPublish,
  };
}

/** The scorers' clock: a failed delivery comes back after the scoring queue's visibility timeout. */
const clock = { now: t0 };
const VISIBILITY_MS = 360_000;

/** Delivers every message (sensors interleaved at random, each sensor's in order), a tenth of them twice; a failed delivery comes back. */
async function deliver(deps: ScoringDeps, perSensor: ReadingsMessage[][], seed: number): Promise<number> {
  const rng = createRng(seed);
  const cursors = perSensor.map(() => 0);
  let deliveries = 0;
  for (;;) {
    const open = cursors.flatMap((c, k) => (c < perSensor[k].length ? [k] : []));
    if (open.length === 0) return deliveries;
    const k = open[Math.floor(rng() * open.length)];
    const message = perSensor[k][cursors[k]];
    for (let copies = rng() < 0.1 ? 2 : 1; copies > 0; ) {
      deliveries += 1;
      try {
        await scoreReadings(deps, message);
        copies -= 1;
      } catch {
        // Back after the visibility timeout: delivered again.
        clock.now += VISIBILITY_MS;
      }
      if (deliveries > 100_000) throw new Error('a message never got through');
    }
    cursors[k] += 1;
  }
}

describe('streaming scoring under faults: every reading scored once, no episode duplicated', () => {
  it('with 30 % of calls throttled, scorers dying after their writes and messages delivered twice, ends as a clean run', async () => {
    const perSensor = messages();
    const clean = memoryScoring();
    await deliver(clean.deps, perSensor, 1);

    const faulty = memoryScoring();
    faulty.deps.now = () => clock.now;
    const chaos = chaotic(faulty.deps, 0.3, 42);
    const deliveries = await deliver(chaos.deps, perSensor, 2);
    // A last message per sensor lets effects left pending by a final crash be applied, as any later message would.
    await deliver(faulty.deps, perSensor.map((m) => [m.at(-1)!]), 3);

    expect(chaos.injected.before).toBeGreaterThan(100);
    expect(chaos.injected.after).toBeGreaterThan(20);
    expect(deliveries).toBeGreaterThan(SENSORS * (READINGS / PER_MESSAGE) * 1.5);
    for (let k = 0; k < SENSORS; k++) {
      const key = `acme/s${k}`;
      // Scored once: the detector learnt each reading once, and each reading has the score a clean run gives it.
      expect(faulty.states.get(key)!.detector).toEqual(clean.states.get(key)!.detector);
      expect(faulty.states.get(key)!.pending).toBeNull();
      expect(faulty.scores.get(key)!.size).toBe(READINGS);
      expect([...faulty.scores.get(key)!.entries()].sort(([a], [b]) => a - b)).toEqual([...clean.scores.get(key)!.entries()].sort(([a], [b]) => a - b));
    }
    // The same episodes, each once, in the same final state.
    const episodes = (m: ReturnType<typeof memoryScoring>) => new Map([...m.episodes.entries()].map(([id, e]) => [id, e.snapshot]));
    expect(clean.episodes.size).toBeGreaterThanOrEqual(SENSORS);
    expect(episodes(faulty)).toEqual(episodes(clean));
    // Every episode announced; twice only where a scorer died between publishing and noting it, then with the same event id.
    const ids = (m: ReturnType<typeof memoryScoring>, type: string) => m.published.filter((p) => p.detailType === type).map((p) => p.detail.episodeId as string);
    for (const type of ['anomaly.opened', 'anomaly.closed']) {
      expect(new Set(ids(faulty, type))).toEqual(new Set(ids(clean, type)));
      expect(ids(clean, type).length).toBe(new Set(ids(clean, type)).size);
    }
    const duplicates = ids(faulty, 'anomaly.opened').length + ids(faulty, 'anomaly.closed').length - ids(clean, 'anomaly.opened').length - ids(clean, 'anomaly.closed').length;
    expect(duplicates).toBeLessThanOrEqual(chaos.afterPublish());
    for (const p of faulty.published) expect(p.detail.eventId).toBe(`${p.detail.episodeId as string}:${p.detailType.replace('anomaly.', '')}`);
  });
});
