import type { ReadingScore, ReadingToStore, StoredReading } from './readingsStore.js';

/**
 * A sensor's readings of one time bucket, packed into one binary value: DynamoDB bills a write by
 * the size of the whole item, so the fewer bytes a reading takes, the fewer write units.
 *
 * Layout (format 1): version, flags, decimals, count (varint); timestamps as zigzag varints of
 * delta-of-delta from the bucket start (a regular series costs a byte a reading); values as
 * zigzag varints of the delta of `value * 10^decimals` when every value of the bucket survives
 * that round trip exactly (what sensors report: a few decimals), else float64; then bitsets of
 * late readings, and when present, quality and score (float64 each) with their presence bitsets
 * and the labels.
 */
const formatVersion = 1;
const scaled = 1;
const hasQuality = 2;
const hasLate = 4;
const hasScores = 8;
const maxDecimals = 6;

class ByteWriter {
  private bytes = new Uint8Array(256);
  private view = new DataView(this.bytes.buffer);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
    grown.set(this.bytes);
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  byte(b: number): void {
    this.reserve(1);
    this.bytes[this.length++] = b;
  }

  /** Unsigned varint up to 2^53, with arithmetic (bitwise operators are 32-bit in JavaScript). */
  varint(n: number): void {
    this.reserve(8);
    while (n >= 128) {
      this.bytes[this.length++] = (n % 128) + 128;
      n = Math.floor(n / 128);
    }
    this.bytes[this.length++] = n;
  }

  zigzag(n: number): void {
    this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
  }

  float64(x: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, x, true);
    this.length += 8;
  }

  bits(count: number, isSet: (i: number) => boolean): void {
    const n = Math.ceil(count / 8);
    this.reserve(n);
    for (let i = 0; i < n; i++) this.bytes[this.length + i] = 0;
    for (let i = 0; i < count; i++) if (isSet(i)) this.bytes[this.length + (i >> 3)] |= 1 << (i & 7);
    this.length += n;
  }

  done(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

class ByteReader {
  private offset = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  byte(): number {
    if (this.offset >= this.bytes.length) throw new Error('Reading bucket is truncated');
    return this.bytes[this.offset++];
  }

  varint(): number {
    let n = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      n += (b & 127) * scale;
      if (b < 128) return n;
      scale *= 128;
    }
  }

  zigzag(): number {
    const n = this.varint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  float64(): number {
    const x = this.view.getFloat64(this.offset, true);
    this.offset += 8;
    return x;
  }

  bits(count: number): (i: number) => boolean {
    const start = this.offset;
    this.offset += Math.ceil(count / 8);
    if (this.offset > this.bytes.length) throw new Error('Reading bucket is truncated');
    return (i) => (this.bytes[start + (i >> 3)] & (1 << (i & 7))) !== 0;
  }
}

/** The fewest decimals that represent every value exactly as a safe integer, or -1 when none up to 6 do. */
function decimalsOf(readings: readonly StoredReading[]): number {
  for (let d = 0, factor = 1; d <= maxDecimals; d++, factor *= 10) {
    let fits = true;
    for (const r of readings) {
      const k = Math.round(r.value * factor);
      if (!Number.isSafeInteger(k) || k / factor !== r.value) {
        fits = false;
        break;
      }
    }
    if (fits) return d;
  }
  return -1;
}

/** Packs readings (sorted by timestamp, unique, all at or after `start`) into the bucket format. */
export function encodeBucket(start: number, readings: readonly StoredReading[]): Uint8Array {
  const w = new ByteWriter();
  const decimals = decimalsOf(readings);
  const anyQuality = readings.some((r) => r.quality !== undefined);
  const anyLate = readings.some((r) => r.late);
  const anyScore = readings.some((r) => r.score !== undefined);
  w.byte(formatVersion);
  w.byte((decimals >= 0 ? scaled : 0) | (anyQuality ? hasQuality : 0) | (anyLate ? hasLate : 0) | (anyScore ? hasScores : 0));
  w.byte(Math.max(decimals, 0));
  w.varint(readings.length);
  let previous = start;
  let previousDelta = 0;
  for (const r of readings) {
    const delta = r.timestamp - previous;
    w.zigzag(delta - previousDelta);
    previous = r.timestamp;
    previousDelta = delta;
  }
  if (decimals >= 0) {
    const factor = 10 ** decimals;
    let last = 0;
    for (const r of readings) {
      const k = Math.round(r.value * factor);
      w.zigzag(k - last);
      last = k;
    }
  } else {
    for (const r of readings) w.float64(r.value);
  }
  if (anyLate) w.bits(readings.length, (i) => readings[i].late === true);
  if (anyQuality) {
    w.bits(readings.length, (i) => readings[i].quality !== undefined);
    for (const r of readings) if (r.quality !== undefined) w.float64(r.quality);
  }
  if (anyScore) {
    w.bits(readings.length, (i) => readings[i].score !== undefined);
    w.bits(readings.length, (i) => readings[i].label === 1);
    for (const r of readings) if (r.score !== undefined) w.float64(r.score);
  }
  return w.done();
}

/** The readings of a bucket written by encodeBucket, in time order. */
export function decodeBucket(start: number, bytes: Uint8Array): StoredReading[] {
  const r = new ByteReader(bytes);
  const version = r.byte();
  if (version !== formatVersion) throw new Error(`Unknown reading bucket format ${version}`);
  const flags = r.byte();
  const decimals = r.byte();
  const count = r.varint();
  const out: StoredReading[] = new Array(count);
  let previous = start;
  let previousDelta = 0;
  for (let i = 0; i < count; i++) {
    const delta = previousDelta + r.zigzag();
    previous += delta;
    previousDelta = delta;
    out[i] = { timestamp: previous, value: 0 };
  }
  if (flags & scaled) {
    const factor = 10 ** decimals;
    let last = 0;
    for (let i = 0; i < count; i++) {
      last += r.zigzag();
      out[i].value = last / factor;
    }
  } else {
    for (let i = 0; i < count; i++) out[i].value = r.float64();
  }
  if (flags & hasLate) {
    const late = r.bits(count);
    for (let i = 0; i < count; i++) if (late(i)) out[i].late = true;
  }
  if (flags & hasQuality) {
    const present = r.bits(count);
    for (let i = 0; i < count; i++) if (present(i)) out[i].quality = r.float64();
  }
  if (flags & hasScores) {
    const present = r.bits(count);
    const label = r.bits(count);
    for (let i = 0; i < count; i++) {
      if (!present(i)) continue;
      out[i].score = r.float64();
      out[i].label = label(i) ? 1 : 0;
    }
  }
  return out;
}

/** About this many readings per bucket at the sensor's nominal rate: items stay near a few KB, scores included. */
export const readingsPerBucket = 200;
const minSpanMs = 10_000;
const maxSpanMs = 86_400_000;
/** The rate assumed for a sensor registered without samplingIntervalSeconds. */
export const defaultSamplingIntervalSeconds = 1;

/**
 * The time span of a sensor's buckets, from its nominal sampling interval: whole seconds, between
 * 10 s and a day. It must never change for a sensor (a reading's bucket is where it is looked for).
 */
export function bucketSpanMs(samplingIntervalSeconds: number = defaultSamplingIntervalSeconds): number {
  const span = Math.round(samplingIntervalSeconds * readingsPerBucket) * 1000;
  return Math.min(maxSpanMs, Math.max(minSpanMs, span));
}

export const bucketStartOf = (timestamp: number, spanMs: number) => Math.floor(timestamp / spanMs) * spanMs;

export interface MergeResult {
  readings: StoredReading[];
  stored: number;
  duplicates: number;
  late: number;
  /** Timestamps of the incoming readings that are (now or already) marked late. */
  lateTimestamps: number[];
}

/**
 * Adds incoming readings to a bucket's readings. A timestamp already there is a duplicate and
 * left as it was (the first value wins, whatever the redelivery); a new one older than `newest`
 * (the sensor's newest stored timestamp) is kept and marked late.
 */
export function mergeReadings(existing: readonly StoredReading[], incoming: readonly ReadingToStore[], newest: number): MergeResult {
  const byTimestamp = new Map<number, StoredReading>();
  for (const r of existing) byTimestamp.set(r.timestamp, r);
  let stored = 0;
  let duplicates = 0;
  let late = 0;
  const lateTimestamps: number[] = [];
  for (const r of incoming) {
    const found = byTimestamp.get(r.timestamp);
    if (found) {
      duplicates++;
      if (found.late) lateTimestamps.push(r.timestamp);
      continue;
    }
    const reading: StoredReading = { timestamp: r.timestamp, value: r.value };
    if (r.quality !== undefined) reading.quality = r.quality;
    if (r.timestamp < newest) {
      reading.late = true;
      late++;
      lateTimestamps.push(r.timestamp);
    }
    byTimestamp.set(r.timestamp, reading);
    stored++;
  }
  const readings = stored === 0 ? [...existing] : [...byTimestamp.values()].sort((a, b) => a.timestamp - b.timestamp);
  return { readings, stored, duplicates, late, lateTimestamps };
}

/** Sets scores and labels on the readings that have them; false when nothing changed (a replay). */
export function applyScores(readings: StoredReading[], scores: readonly ReadingScore[]): boolean {
  const byTimestamp = new Map(readings.map((r) => [r.timestamp, r]));
  let changed = false;
  for (const s of scores) {
    const r = byTimestamp.get(s.timestamp);
    if (!r || (r.score === s.score && r.label === s.label)) continue;
    r.score = s.score;
    r.label = s.label;
    changed = true;
  }
  return changed;
}
