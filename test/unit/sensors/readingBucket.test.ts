import { describe, expect, it } from 'vitest';
import { bucketSpanMs, decodeBucket, decodeScores, encodeBucket, encodeScores, mergeReadings, mergeScores } from '../../../shared/sensors/readingBucket.js';
import type { StoredReading } from '../../../shared/sensors/readingsStore.js';

const start = Date.UTC(2026, 0, 1);
const regular = (n: number, value: (i: number) => number): StoredReading[] => Array.from({ length: n }, (_, i) => ({ timestamp: start + i * 1000, value: value(i) }));

describe('the reading bucket encoding', () => {
  it('round-trips values with few decimals, irregular timestamps, quality and late marks', () => {
    const readings: StoredReading[] = [
      { timestamp: start + 5, value: 12.34, quality: 192 },
      { timestamp: start + 1005, value: -0.5, late: true },
      { timestamp: start + 1006, value: 1e9 },
      { timestamp: start + 9_999, value: 0, quality: 0.5 },
    ];
    expect(decodeBucket(start, encodeBucket(start, readings))).toEqual(readings);
  });

  it('packs scores apart, in float32 read back to 7 significant digits, with their labels', () => {
    const scores = [
      { timestamp: start + 5, score: 0.123456789, label: 0 as const },
      { timestamp: start + 1005, score: 0.9, label: 1 as const },
      { timestamp: start + 1006, score: 12.5, label: 1 as const },
    ];
    const bytes = encodeScores(start, scores);
    expect(bytes.length).toBeLessThanOrEqual(2 + 5 + 1 + 3 * 4);
    expect(decodeScores(start, bytes)).toEqual([{ ...scores[0], score: 0.1234568 }, scores[1], scores[2]]);
  });

  it('keeps values that no decimal scaling represents exactly as float64', () => {
    const readings = regular(50, (i) => Math.PI * (i + 1) * 1e-3);
    const decoded = decodeBucket(start, encodeBucket(start, readings));
    expect(decoded).toEqual(readings);
  });

  it('packs a regular series of 2-decimal values in about 3 bytes a reading', () => {
    const readings = regular(200, (i) => Math.round((20 + Math.sin(i / 10) * 3) * 100) / 100);
    const bytes = encodeBucket(start, readings);
    expect(decodeBucket(start, bytes)).toEqual(readings);
    expect(bytes.length).toBeLessThan(200 * 3.5);
  });

  it('sizes buckets at about 200 readings of the sensor, between 10 s and a day', () => {
    expect(bucketSpanMs(1)).toBe(200_000);
    expect(bucketSpanMs(0.01)).toBe(10_000);
    expect(bucketSpanMs(3600)).toBe(86_400_000);
    expect(bucketSpanMs()).toBe(200_000);
  });
});

describe('merging readings into a bucket', () => {
  it('stores a reading once per timestamp: the first value wins, a replay is all duplicates', () => {
    const first = mergeReadings([], [{ timestamp: start + 2000, value: 1 }, { timestamp: start, value: 2 }], Number.NEGATIVE_INFINITY);
    expect(first).toMatchObject({ stored: 2, duplicates: 0, late: 0 });
    expect(first.readings.map((r) => r.timestamp)).toEqual([start, start + 2000]);
    const replay = mergeReadings(first.readings, [{ timestamp: start, value: 99 }], start + 2000);
    expect(replay).toMatchObject({ stored: 0, duplicates: 1 });
    expect(replay.readings.find((r) => r.timestamp === start)?.value).toBe(2);
  });

  it('marks a reading older than the sensor newest as late, and says so again on redelivery', () => {
    const merged = mergeReadings([{ timestamp: start + 5000, value: 1 }], [{ timestamp: start + 1000, value: 3 }], start + 5000);
    expect(merged).toMatchObject({ stored: 1, late: 1, lateTimestamps: [start + 1000] });
    expect(merged.readings[0]).toEqual({ timestamp: start + 1000, value: 3, late: true });
    const again = mergeReadings(merged.readings, [{ timestamp: start + 1000, value: 3 }], start + 5000);
    expect(again).toMatchObject({ stored: 0, duplicates: 1, late: 0, lateTimestamps: [start + 1000] });
  });

  it('keeps scores of stored readings only, and a replayed score changes nothing', () => {
    const readings = regular(3, (i) => i);
    const scores = mergeScores(readings, [], [{ timestamp: start + 1000, score: 0.7, label: 1 }, { timestamp: start + 77, score: 1, label: 1 }]);
    expect(scores).toEqual([{ timestamp: start + 1000, score: 0.7, label: 1 }]);
    expect(mergeScores(readings, scores!, [{ timestamp: start + 1000, score: 0.7, label: 1 }])).toBeNull();
    expect(mergeScores(readings, scores!, [{ timestamp: start, score: 0.1, label: 0 }])).toEqual([{ timestamp: start, score: 0.1, label: 0 }, { timestamp: start + 1000, score: 0.7, label: 1 }]);
  });
});
