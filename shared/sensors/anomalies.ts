import { detailTypes, type EventPublisher } from '../platform/events.js';
import { NotFoundError } from '../platform/errors.js';
import type { Page } from '../platform/page.js';
import type { Episode, EpisodeFilter, EpisodeStore, VerdictInput } from './episode.js';

export function listAnomalies(store: EpisodeStore, tenant: string, filter: EpisodeFilter, page: { limit: number; cursor?: string }): Promise<Page<Episode>> {
  return store.list(tenant, filter, page);
}

/** A tenant's episode; another tenant's or an unknown id is the same 404. */
export async function getAnomaly(store: EpisodeStore, tenant: string, id: string): Promise<Episode> {
  const found = await store.get(tenant, id);
  if (!found) throw new NotFoundError(`No anomaly episode "${id}".`);
  return found;
}

/**
 * Records an operator's verdict on an episode, with who and when; a later verdict replaces it.
 * The verdict is a label: confirmed episodes are the anomaly windows evaluation and training use.
 */
/**
 * Records an operator's verdict on an episode, then announces it (`anomaly.reviewed`): the ml
 * context keeps verdicts as labels for evaluation and training. A failed publish fails the request
 * (503), and its retry records the verdict again and announces it again; a later verdict wins.
 */
export async function reviewAnomaly(deps: { episodes: EpisodeStore; events: EventPublisher }, tenant: string, id: string, input: VerdictInput, subject: string, now = new Date()): Promise<Episode> {
  const updated = await deps.episodes.recordVerdict(tenant, id, { ...input, by: subject, at: now.toISOString() });
  if (!updated) throw new NotFoundError(`No anomaly episode "${id}".`);
  await deps.events.publish(detailTypes.anomalyReviewed, {
    tenant,
    episodeId: id,
    sensorIds: updated.sensors.map((s) => s.sensorId),
    start: updated.start,
    // The last anomalous reading: the quiet period after it is normal.
    end: updated.end,
    verdict: input.verdict,
    at: now.toISOString(),
  });
  return updated;
}

/** A labelled stretch of a sensor's history, epoch milliseconds, both ends included. */
export interface LabelWindow {
  sensorId: string;
  start: number;
  end: number;
  episodeId: string;
}

export interface AnomalyLabels {
  /** Confirmed episodes: the anomalies. */
  anomalies: LabelWindow[];
  /** Rejected episodes: stretches an operator judged normal although the detector alarmed. */
  falseAlarms: LabelWindow[];
}

/**
 * The operators' labels of a sensor or a group over a time range: every judged episode, as windows.
 * Unjudged episodes are not labels. Evaluation marks the points inside `anomalies` positive
 * (`labelPoints`); training leaves them out of the rows it learns from.
 */
export async function anomalyLabels(store: EpisodeStore, tenant: string, filter: Omit<EpisodeFilter, 'status'>): Promise<AnomalyLabels> {
  const labels: AnomalyLabels = { anomalies: [], falseAlarms: [] };
  let cursor: string | undefined;
  do {
    const page = await store.list(tenant, filter, { limit: 100, cursor });
    for (const e of page.items) {
      if (!e.verdict) continue;
      const window = { sensorId: e.sensorId, start: Date.parse(e.start), end: Date.parse(e.end), episodeId: e.id };
      (e.verdict.verdict === 'confirmed' ? labels.anomalies : labels.falseAlarms).push(window);
    }
    cursor = page.nextCursor;
  } while (cursor);
  return labels;
}

/** 1 for each timestamp (epoch ms) inside an anomaly window, else 0: the label column of evaluation. */
export function labelPoints(timestamps: readonly number[], windows: readonly Pick<LabelWindow, 'start' | 'end'>[]): (0 | 1)[] {
  return timestamps.map((t) => (windows.some((w) => t >= w.start && t <= w.end) ? 1 : 0));
}
