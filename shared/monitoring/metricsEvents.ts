import { z } from 'zod';
import { detailTypes } from '../platform/events.js';
import type { CounterName } from './metrics.js';

/** The bus events the platform counts, and what each adds to its tenant's minute. */
export const countedDetailTypes = [
  detailTypes.anomalyOpened,
  detailTypes.alertFired,
  detailTypes.alertDeliveryFailed,
  detailTypes.dataProcessed,
  detailTypes.pipelineFailed,
  detailTypes.modelRegistered,
] as const;

export const countedEvent = z.object({
  id: z.string().min(1).max(100),
  'detail-type': z.enum(countedDetailTypes),
  time: z.iso.datetime(),
  detail: z.looseObject({ tenant: z.string().min(1), pipeline: z.string().optional(), episodeId: z.string().max(100).optional() }),
});
export type CountedEvent = z.infer<typeof countedEvent>;

/**
 * The counts an event adds. pipeline.failed comes from both sagas: the training one says
 * `pipeline: 'training'` (a failed training job), the dataset one says nothing (a failed run).
 */
export function countsOfEvent(event: CountedEvent): Partial<Record<CounterName, number>> {
  switch (event['detail-type']) {
    case detailTypes.anomalyOpened:
      return { episodesOpened: 1 };
    case detailTypes.alertFired:
      return { alertsFired: 1 };
    case detailTypes.alertDeliveryFailed:
      return { deliveriesFailed: 1 };
    case detailTypes.dataProcessed:
      return { pipelineRuns: 1 };
    case detailTypes.modelRegistered:
      return { trainingJobs: 1 };
    case detailTypes.pipelineFailed:
      return event.detail.pipeline === 'training' ? { trainingJobs: 1, trainingFailures: 1 } : { pipelineRuns: 1, pipelineFailures: 1 };
  }
}

/**
 * What makes an event the same event again, so it is counted once: its EventBridge id (a retried
 * delivery keeps it), and for anomaly.opened the episode (a scorer that crashed after publishing
 * publishes it again, with a new event id).
 */
export const countingKey = (event: CountedEvent): string =>
  event['detail-type'] === detailTypes.anomalyOpened && event.detail.episodeId ? `opened#${event.detail.episodeId}` : `event#${event.id}`;

/** The event, checked: an event without a tenant is no tenant's figure, and is refused loudly. */
export const parseCountedEvent = (event: unknown): CountedEvent => countedEvent.parse(event);
