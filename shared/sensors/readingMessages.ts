import { z } from 'zod';
import { resourceId } from '../platform/ids.js';

/**
 * One reading as it travels on the queues. Timestamps are epoch milliseconds (what the API's ISO
 * or numeric timestamps become), so every consumer compares numbers, never strings.
 */
export const queuedReading = z.object({
  timestamp: z.number().int(),
  value: z.number(),
  quality: z.number().optional(),
  /** Older than the newest reading already stored for the sensor when it was stored. */
  late: z.boolean().optional(),
});
export type QueuedReading = z.infer<typeof queuedReading>;

/**
 * A message of the `ingest` and `scoring` queues: readings of one sensor of one tenant, sorted by
 * timestamp. The writer (storeReadings) consumes `ingest` and forwards every reading of a stored
 * message to `scoring`, so a redelivery still reaches the scorer, which de-duplicates by timestamp.
 */
export const readingsMessage = z.object({
  tenant: z.string().min(1).max(63),
  sensorId: resourceId,
  readings: z.array(queuedReading).min(1),
  correlationId: z.string().max(128).optional(),
});
export type ReadingsMessage = z.infer<typeof readingsMessage>;
