/** A reading as the store keeps it: the value, and the score and label once the scorer has seen it. */
export interface StoredReading {
  /** Epoch milliseconds. */
  timestamp: number;
  value: number;
  quality?: number;
  /** Older than the newest reading stored for its sensor when it arrived. */
  late?: boolean;
  score?: number;
  label?: 0 | 1;
}

export interface ReadingToStore {
  timestamp: number;
  value: number;
  quality?: number;
}

export interface ReadingScore {
  timestamp: number;
  score: number;
  label: 0 | 1;
}

export interface PutResult {
  /** Readings new to the store. */
  stored: number;
  /** Readings the store already held (same tenant, sensor and timestamp): left as they were. */
  duplicates: number;
  /** Of the stored ones, those older than the sensor's newest reading at the time. */
  late: number;
  /** Timestamps of the given readings that the store holds marked late (just now, or when first stored). */
  lateTimestamps?: readonly number[];
}

/**
 * The time-series store of readings, one series per (tenant, sensor). The DynamoDB adapter is the
 * default; Timestream for LiveAnalytics is the other (shared/aws).
 */
export interface ReadingsStore {
  /**
   * Idempotent by (tenant, sensor, timestamp). Writes oldest first: a put that fails part way has
   * stored no reading newer than one it did not store, so a retry of only its first messages (the
   * writer merges a sensor's messages into one put) finds none of its own readings late.
   */
  put(tenant: string, sensorId: string, readings: readonly ReadingToStore[]): Promise<PutResult>;
  /** Idempotent: the score and label of readings already stored (a missing reading is ignored). */
  putScores(tenant: string, sensorId: string, scores: readonly ReadingScore[]): Promise<void>;
  /** Readings of [from, to) in time order. */
  range(tenant: string, sensorId: string, from: number, to: number): AsyncIterable<StoredReading>;
}
