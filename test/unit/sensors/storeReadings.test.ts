import { describe, expect, it } from 'vitest';
import { readSeries, seriesCsv } from '../../../shared/sensors/readingsSeries.js';
import type { ReadingsMessage } from '../../../shared/sensors/readingMessages.js';
import type { ReadingsStore, ReadingToStore, StoredReading } from '../../../shared/sensors/readingsStore.js';
import { storeAndForward } from '../../../shared/sensors/storeReadings.js';

const t0 = Date.UTC(2026, 0, 1);

/** An in-memory store with the port's semantics, to test the use cases around it. */
function memoryStore(initial: StoredReading[] = []): ReadingsStore & { puts: ReadingToStore[][] } {
  const kept = new Map(initial.map((r) => [r.timestamp, r]));
  const puts: ReadingToStore[][] = [];
  return {
    puts,
    async put(_t, _s, readings) {
      puts.push([...readings]);
      const newest = Math.max(...kept.keys());
      let stored = 0;
      const lateTimestamps: number[] = [];
      for (const r of readings) {
        if (kept.has(r.timestamp)) {
          if (kept.get(r.timestamp)!.late) lateTimestamps.push(r.timestamp);
          continue;
        }
        const late = r.timestamp < newest;
        if (late) lateTimestamps.push(r.timestamp);
        kept.set(r.timestamp, { ...r, ...(late ? { late } : {}) });
        stored++;
      }
      return { stored, duplicates: readings.length - stored, late: 0, lateTimestamps };
    },
    async putScores() {},
    async *range(_t, _s, from, to) {
      for (const r of [...kept.values()].sort((a, b) => a.timestamp - b.timestamp)) if (r.timestamp >= from && r.timestamp < to) yield r;
    },
  };
}

describe('the writer', () => {
  it('stores the messages of a sensor in one put, one reading per timestamp, and forwards them sorted with their late marks', async () => {
    const store = memoryStore([{ timestamp: t0 + 10_000, value: 0 }]);
    const sent: ReadingsMessage[] = [];
    const messages: ReadingsMessage[] = [
      { tenant: 'acme', sensorId: 's', readings: [{ timestamp: t0 + 20_000, value: 2 }], correlationId: 'c1' },
      { tenant: 'acme', sensorId: 's', readings: [{ timestamp: t0 + 5_000, value: 1, quality: 7 }, { timestamp: t0 + 20_000, value: 2 }] },
    ];
    await Promise.all(storeAndForward({ store, scoring: { send: async (m) => (sent.push(...m), m.length) } }, [messages]));
    expect(store.puts).toEqual([[{ timestamp: t0 + 5_000, value: 1, quality: 7 }, { timestamp: t0 + 20_000, value: 2 }]]);
    expect(sent).toEqual([{ tenant: 'acme', sensorId: 's', correlationId: 'c1', readings: [{ timestamp: t0 + 5_000, value: 1, quality: 7, late: true }, { timestamp: t0 + 20_000, value: 2 }] }]);
  });

  it('forwards readings it finds already stored (a redelivery after a crash before forwarding)', async () => {
    const store = memoryStore([{ timestamp: t0, value: 1 }]);
    const sent: ReadingsMessage[] = [];
    await Promise.all(storeAndForward({ store, scoring: { send: async (m) => (sent.push(...m), m.length) } }, [[{ tenant: 'acme', sensorId: 's', readings: [{ timestamp: t0, value: 1 }] }]]));
    expect(sent.flatMap((m) => m.readings)).toEqual([{ timestamp: t0, value: 1 }]);
  });
});

describe('the writer, for a delivery of several sensors', () => {
  it('forwards the stored groups in one send, and fails the groups whose store failed (or all of them when forwarding fails)', async () => {
    const store = memoryStore();
    const failing: ReadingsStore = { ...store, put: async (t, s, r) => (s === 'bad' ? Promise.reject(new Error('throttled')) : store.put(t, s, r)) };
    const sends: ReadingsMessage[][] = [];
    const group = (sensorId: string): ReadingsMessage[] => [{ tenant: 'acme', sensorId, readings: [{ timestamp: t0, value: 1 }] }];
    const results = await Promise.allSettled(storeAndForward({ store: failing, scoring: { send: async (m) => (sends.push([...m]), m.length) } }, [group('a'), group('bad'), group('b')]));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(sends.map((s) => s.map((m) => m.sensorId))).toEqual([['a', 'b']]);

    const down = await Promise.allSettled(storeAndForward({ store: memoryStore(), scoring: { send: () => Promise.reject(new Error('SQS down')) } }, [group('a'), group('b')]));
    expect(down.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});

describe('reading a series back', () => {
  const sensors = { get: async (_t: string, id: string) => (id === 's' ? { id, name: id, type: 'flow' as const, unit: 'l/s', createdAt: '' } : undefined) };

  it('answers raw readings when they fit, buckets of min, max, mean, highest score and any label when not', async () => {
    const readings = Array.from({ length: 10 }, (_, i): StoredReading => ({ timestamp: t0 + i * 1000, value: i, ...(i === 3 ? { score: 0.9, label: 1 as const } : i === 2 ? { score: 0.2, label: 0 as const } : {}) }));
    const store = memoryStore(readings);
    const raw = await readSeries({ store, sensors }, 't', 's', { from: t0, to: t0 + 10_000, maxPoints: 10 });
    expect(raw).toMatchObject({ resolution: 'raw', count: 10 });
    expect(raw.points[3]).toEqual({ timestamp: new Date(t0 + 3000).toISOString(), value: 3, score: 0.9, label: 1 });
    const buckets = await readSeries({ store, sensors }, 't', 's', { from: t0, to: t0 + 10_000, maxPoints: 2 });
    expect(buckets).toMatchObject({ resolution: 'buckets', bucketMs: 5000, count: 10 });
    expect(buckets.points).toEqual([
      { timestamp: new Date(t0).toISOString(), min: 0, max: 4, mean: 2, count: 5, score: 0.9, label: 1 },
      { timestamp: new Date(t0 + 5000).toISOString(), min: 5, max: 9, mean: 7, count: 5 },
    ]);
    expect(seriesCsv(buckets).split('\n')[1]).toBe(`${new Date(t0).toISOString()},0,4,2,5,0.9,1`);
  });

  it('is a 404 for a sensor the tenant does not have and a 400 for an empty range', async () => {
    const store = memoryStore();
    await expect(readSeries({ store, sensors }, 't', 'x', { maxPoints: 5 })).rejects.toMatchObject({ status: 404 });
    await expect(readSeries({ store, sensors }, 't', 's', { from: t0, to: t0, maxPoints: 5 })).rejects.toMatchObject({ status: 400 });
  });
});
