import { beforeAll, describe, expect, it } from 'vitest';
import { countReplay, recordAnomalyEvents, replayReadings, sendReplay, type ReplayPlan } from '../fixtures/readingsReplay.js';
import type { InjectedFault } from '../../local/faults.js';
import { useLocalCloud } from './localCloudFixture.js';

// Faults given (empty until a test sets them): DynamoDB is reached through the fault proxy.
const local = useLocalCloud({ faults: '', faultSeed: 11 });
// Free-running: a sensor's next request goes as soon as its previous one is queued, long before it is
// stored and scored. The FIFO queues keep each sensor's messages in order through retries and
// redeliveries; on standard queues a later message overtakes an earlier one, whose readings are then late.
const plan: ReplayPlan = { sensors: 6, readingsPerSensor: 2000, perRequest: 250, concurrency: 3 };
const readings = replayReadings(plan);
let events: ReturnType<typeof recordAnomalyEvents>;
beforeAll(() => {
  events = recordAnomalyEvents(local.cloud);
});

/** Replays the readings as `tenant` under `faults`, then counts by key with the faults off. */
async function replayUnder(tenant: string, faults: string, budgetMs = 25_000) {
  local.cloud.faults.set(faults);
  let injected: InjectedFault[];
  try {
    await sendReplay(local.cloud, tenant, plan, readings, budgetMs);
  } finally {
    injected = local.cloud.faults.injected();
    local.cloud.faults.clear();
  }
  return { ...(await countReplay(local.cloud, tenant, plan, readings, events)), injected };
}

/**
 * Every reading stored once with its value, scored once with the in-order score (the detector learnt
 * each once); the in-order episodes, none doubled, each announced. A scorer claims an event on its
 * episode before publishing it, so a duplicate run alongside the first does not send it again; one
 * that fails between publishing and noting it (a crash, a throttled write) does, once its claim
 * lapses, with the same eventId to de-duplicate on.
 */
function expectExactlyOnce(count: Awaited<ReturnType<typeof replayUnder>>) {
  for (const [sensorId, c] of count.perSensor) {
    expect({ sensorId, ...c }).toEqual({ sensorId, stored: plan.readingsPerSensor, missing: 0, changed: 0, unscored: 0, misscored: 0, learnt: plan.readingsPerSensor });
  }
  expect(count.expectedEpisodes.length).toBeGreaterThanOrEqual(plan.sensors);
  expect(count.episodes).toEqual(count.expectedEpisodes);
  for (const e of count.expectedEpisodes) {
    expect(count.opened.get(e.id), `anomaly.opened of ${e.id}`).toBeGreaterThanOrEqual(1);
    if (e.status === 'closed') expect(count.closed.get(e.id), `anomaly.closed of ${e.id}`).toBeGreaterThanOrEqual(1);
    else expect(count.closed.has(e.id), `anomaly.closed of open ${e.id}`).toBe(false);
  }
  expect([...count.opened.keys()].sort()).toEqual(count.expectedEpisodes.map((e) => e.id));
}

describe(`a replay of ${plan.sensors * plan.readingsPerSensor} readings under faults: each stored once, scored once, no episode doubled`, () => {
  it('with no faults', async () => {
    expectExactlyOnce(await replayUnder('replay-clean', ''));
  });

  it('with 30 % of DynamoDB writes throttled', async () => {
    // The SDK's back-offs on throttling are real time, not scaled like the queues': every write a scorer
    // makes (scores, state, episode, the claim and the note of each event) can wait for them.
    const count = await replayUnder('replay-throttled', ['PutItem', 'UpdateItem'].map((op) => `dynamodb:${op}=throttle@0.3`).join(','), 45_000);
    expect(count.injected.length).toBeGreaterThan(20);
    expectExactlyOnce(count);
  }, 90_000);

  it('with the scorer and the writer crashing after their work, and part way through a batch', async () => {
    const count = await replayUnder('replay-crashed', 'lambda:scoreReadings=crash#2,lambda:scoreReadings=crash:0.5#1+3,lambda:storeReadings=crash#1,lambda:storeReadings=timeout:0.5#2');
    expect(count.injected.map((f) => `${f.operation}=${f.kind}`).sort()).toEqual(['scoreReadings=crash', 'scoreReadings=crash', 'scoreReadings=crash', 'storeReadings=crash', 'storeReadings=timeout']);
    expectExactlyOnce(count);
  });

  it('with a tenth of the messages of both queues delivered twice', async () => {
    const count = await replayUnder('replay-twice', 'sqs:ingest=duplicate@0.1,sqs:scoring=duplicate@0.1,sqs:ingest=duplicate#1,sqs:scoring=duplicate#1');
    expect(new Set(count.injected.map((f) => f.operation))).toEqual(new Set(['ingest', 'scoring']));
    expectExactlyOnce(count);
    // Nothing failed here: the runs of duplicated messages find each event claimed or sent, so each goes out once.
    for (const e of count.expectedEpisodes) {
      expect(count.opened.get(e.id), `anomaly.opened of ${e.id}`).toBe(1);
      if (e.status === 'closed') expect(count.closed.get(e.id), `anomaly.closed of ${e.id}`).toBe(1);
    }
  });
});
