import { describe, expect, it } from 'vitest';
import { ingestReadings, type ReadingsQueue } from '../../../shared/sensors/ingest.js';
import type { ReadingsMessage } from '../../../shared/sensors/readingMessages.js';
import { readingsBatch } from '../../../shared/sensors/readingsContract.js';
import type { Sensor } from '../../../shared/sensors/sensor.js';
import { cachedSensors } from '../../../shared/sensors/sensorCache.js';

const now = Date.UTC(2026, 5, 1);
const sensor = (id: string): Sensor => ({ id, name: id, type: 'flow', unit: 'l/s', createdAt: new Date(now).toISOString() });

function fakes(registered: string[]) {
  const sent: ReadingsMessage[] = [];
  const reads: string[] = [];
  const queue: ReadingsQueue = { send: async (messages) => (sent.push(...messages), messages.length) };
  const sensors = { get: async (tenant: string, id: string) => (reads.push(`${tenant}/${id}`), registered.includes(id) ? sensor(id) : undefined) };
  return { sent, reads, deps: { queue, sensors, now: () => now } };
}

describe('taking readings in', () => {
  it('groups accepted readings per sensor, sorted by time, and lists each refused one with its index and reason', async () => {
    const { sent, deps } = fakes(['a', 'b']);
    const answer = await ingestReadings(
      deps,
      'acme',
      readingsBatch.parse({
        readings: [
          { sensorId: 'a', timestamp: now - 1000, value: 2 },
          { sensorId: 'b', timestamp: '2026-06-01T00:00:00+02:00', value: 1, quality: 3 },
          { sensorId: 'a', timestamp: now - 2000, value: 1 },
          { sensorId: 'nope', timestamp: now, value: 1 },
          { sensorId: '..', timestamp: now, value: 1 },
          { sensorId: 'a', timestamp: now + 5 * 60_000 + 1, value: 1 },
          { sensorId: 'a', timestamp: now + 5 * 60_000, value: 9 },
          { sensorId: 'a', timestamp: now + 0.5, value: 1 },
          { sensorId: 'a', timestamp: '2026-06-01 00:00', value: 1 },
        ],
      }),
      'corr-1',
    );
    expect(answer).toEqual({
      accepted: 4,
      rejected: [
        { index: 3, reason: 'unknown_sensor', detail: 'No sensor "nope" is registered' },
        { index: 4, reason: 'invalid_sensor_id', detail: expect.any(String) },
        { index: 5, reason: 'future_timestamp', detail: expect.stringContaining('5 minutes') },
        { index: 7, reason: 'invalid_timestamp', detail: expect.any(String) },
        { index: 8, reason: 'invalid_timestamp', detail: expect.any(String) },
      ],
    });
    expect(sent).toEqual([
      { tenant: 'acme', sensorId: 'a', correlationId: 'corr-1', readings: [{ timestamp: now - 2000, value: 1 }, { timestamp: now - 1000, value: 2 }, { timestamp: now + 300_000, value: 9 }] },
      { tenant: 'acme', sensorId: 'b', correlationId: 'corr-1', readings: [{ timestamp: Date.UTC(2026, 4, 31, 22), value: 1, quality: 3 }] },
    ]);
  });

  it('takes the columnar form, with qualities where given, and refuses null values one by one', async () => {
    const { sent, deps } = fakes(['c']);
    const answer = await ingestReadings(deps, 'acme', readingsBatch.parse({ sensorId: 'c', timestamps: [now, now - 1, now - 2], values: [1, null, 3], qualities: [null, 1, 0.5] }));
    expect(answer).toEqual({ accepted: 2, rejected: [{ index: 1, reason: 'invalid_value', detail: expect.any(String) }] });
    expect(sent[0].readings).toEqual([{ timestamp: now - 2, value: 3, quality: 0.5 }, { timestamp: now, value: 1 }]);
  });

  it('queues nothing when no reading is accepted', async () => {
    const { sent, deps } = fakes([]);
    expect(await ingestReadings(deps, 'acme', readingsBatch.parse({ sensorId: 'x', timestamps: [now], values: [1] }))).toMatchObject({ accepted: 0 });
    expect(sent).toEqual([]);
  });

  it('refuses batches that are malformed as a whole', () => {
    for (const body of [{}, { readings: [] }, { sensorId: 'c', timestamps: [1, 2], values: [1] }, { sensorId: 'c', timestamps: [1], values: [1], qualities: [] }, { readings: [{ sensorId: 'a', timestamp: 1, value: '1' }] }]) {
      expect(readingsBatch.safeParse(body).success, JSON.stringify(body)).toBe(false);
    }
    expect(readingsBatch.safeParse({ sensorId: 'c', timestamps: Array(1001).fill(now), values: Array(1001).fill(1) }).success).toBe(false);
  });
});

describe('the registered sensors cache', () => {
  it('reads a sensor once per TTL, remembers an unknown one briefly, and shares concurrent reads', async () => {
    let clock = 0;
    const { reads, deps } = fakes(['a']);
    const cache = cachedSensors(deps.sensors, { knownTtlMs: 60_000, unknownTtlMs: 10_000, now: () => clock });
    await Promise.all([cache.get('t', 'a'), cache.get('t', 'a'), cache.get('t', 'z')]);
    await cache.get('t', 'z');
    expect(reads).toEqual(['t/a', 't/z']);
    clock = 10_001;
    await Promise.all([cache.get('t', 'a'), cache.get('t', 'z')]);
    expect(reads).toEqual(['t/a', 't/z', 't/z']);
    clock = 60_001;
    expect(await cache.get('t', 'a')).toMatchObject({ id: 'a' });
    expect(await cache.get('other', 'a')).toMatchObject({ id: 'a' });
    expect(reads).toEqual(['t/a', 't/z', 't/z', 't/a', 'other/a']);
  });

  it('does not cache a failed read', async () => {
    let fail = true;
    const cache = cachedSensors({ get: async () => (fail ? Promise.reject(new Error('throttled')) : sensor('a')) });
    await expect(cache.get('t', 'a')).rejects.toThrow('throttled');
    fail = false;
    expect(await cache.get('t', 'a')).toMatchObject({ id: 'a' });
  });
});
