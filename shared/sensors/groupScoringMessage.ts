import { z } from 'zod';
import { resourceId } from '../platform/ids.js';

/**
 * A message of the `groupScoring` queue: a sensor of a group has new readings, stored, in
 * [from, to] (epoch ms). The group's scorer reads the readings of the model's sensors from the
 * store itself, so a message stays small whatever the batch.
 */
export const groupScoringMessage = z.object({
  tenant: z.string().min(1).max(63),
  group: resourceId,
  sensorId: resourceId,
  from: z.number().int(),
  to: z.number().int(),
  correlationId: z.string().max(128).optional(),
});
export type GroupScoringMessage = z.infer<typeof groupScoringMessage>;
