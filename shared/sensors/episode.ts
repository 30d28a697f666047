import { z } from 'zod';
import { anomalyKinds } from '../ml/streaming/state.js';
import type { Page } from '../platform/page.js';
import { resourceId } from '../platform/ids.js';
import { episodeId, severities, severityOf, type EpisodeChange, type EpisodeEventKind } from './episodes.js';

export const episodeStatuses = ['open', 'closed'] as const;
export const verdicts = ['confirmed', 'rejected'] as const;

/** What an operator sends to judge an episode. */
export const verdictInput = z.strictObject({
  verdict: z.enum(verdicts).describe('confirmed: a real anomaly (a positive label); rejected: a false alarm'),
  note: z.string().trim().max(2000).optional(),
});
export type VerdictInput = z.infer<typeof verdictInput>;

export const verdict = verdictInput.extend({
  by: z.string().describe('Subject of the token that recorded the verdict'),
  at: z.iso.datetime(),
});
export type Verdict = z.infer<typeof verdict>;

/** An anomaly episode of a sensor, as the API returns it. */
export const episode = z.object({
  id: z.string(),
  sensorId: resourceId,
  group: resourceId.optional(),
  status: z.enum(episodeStatuses),
  start: z.iso.datetime().describe('Timestamp of the reading that opened the episode'),
  end: z.iso.datetime().describe('Timestamp of the last anomalous reading so far'),
  closedAt: z.iso.datetime().optional().describe('Timestamp of the reading that ended the quiet period'),
  peakScore: z.number().min(0).max(1),
  peakAt: z.iso.datetime(),
  severity: z.enum(severities),
  kind: z.enum(anomalyKinds).nullable().describe('What the detector recognised at the peak, when one kind stood out'),
  points: z.number().int().describe('Readings scored at or above the closing threshold'),
  sensors: z.array(z.object({ sensorId: resourceId, contribution: z.number() })).describe('Sensors involved and their share of the score'),
  model: z.object({ name: z.string(), version: z.string() }).describe('What scored the readings: the streaming detector, or a deployed model'),
  correlationIds: z.array(z.string()).optional().describe('Correlation ids of the requests whose readings opened (and closed) the episode: follow them in the logs'),
  verdict: verdict.optional(),
});
export type Episode = z.infer<typeof episode>;

export interface EpisodeFilter {
  sensorId?: string;
  group?: string;
  status?: Episode['status'];
  /** Episodes that started in [from, to] (ISO timestamps). */
  from?: string;
  to?: string;
}

/** A snapshot the scorer writes; `revision` orders snapshots of one episode. */
export interface EpisodeSnapshot {
  episode: Omit<Episode, 'verdict' | 'correlationIds'>;
  revision: number;
  /** The correlation id of the readings that opened or closed the episode, added to its `correlationIds`. */
  correlationId?: string;
}

/** Who is publishing an episode's event, until when (epoch ms): past it, a crashed publisher's claim lapses. */
export interface EventClaim {
  by: string;
  until: number;
}

/** The id of an episode's event: the same for every publish of it, so a listener can drop a repeat. */
export const episodeEventId = (episodeId: string, kind: EpisodeEventKind) => `${episodeId}:${kind}`;

/** The port of the anomalies table (shared/aws has the DynamoDB adapter). */
export interface EpisodeStore {
  /**
   * Writes the scorer's fields of a snapshot unless a newer revision is stored (a verdict is never
   * overwritten); answers the events already published for the episode.
   */
  save(tenant: string, snapshot: EpisodeSnapshot): Promise<{ notified: readonly EpisodeEventKind[] }>;
  /**
   * Claims the publishing of one of the episode's events: granted ('claimed') when the event is not
   * noted as sent and no other claim is live at `now`; otherwise 'sent', or 'held' by another
   * publisher. The claim is kept on the episode, so two scorers never both publish an event.
   */
  claimEvent(tenant: string, id: string, kind: EpisodeEventKind, claim: EventClaim, now: number): Promise<'claimed' | 'sent' | 'held'>;
  /** Gives up a claim of `by` (its publish failed), so a retry need not wait for it to lapse. */
  releaseEvent(tenant: string, id: string, kind: EpisodeEventKind, by: string): Promise<void>;
  /** Records that an event of the episode went on the bus. */
  markNotified(tenant: string, id: string, kind: EpisodeEventKind): Promise<void>;
  get(tenant: string, id: string): Promise<Episode | undefined>;
  list(tenant: string, filter: EpisodeFilter, page: { limit: number; cursor?: string }): Promise<Page<Episode>>;
  /** Sets the verdict of an existing episode; undefined when there is none with this id. */
  recordVerdict(tenant: string, id: string, verdict: Verdict): Promise<Episode | undefined>;
}

const iso = (ms: number) => new Date(ms).toISOString();

export type SensorContribution = Episode['sensors'][number];

/** Who an episode is of: the key its id derives from, and the sensors involved with their share. */
export interface EpisodeSubject {
  key: string;
  sensors: SensorContribution[];
}

/** One univariate detector per sensor: the sensor carries the whole score. */
const singleSensor = (sensorId: string): EpisodeSubject => ({ key: sensorId, sensors: [{ sensorId, contribution: 1 }] });

/**
 * The record of a tracker's change: what the anomalies table and the events carry. `sensor` is the
 * sensor the episode is listed under (a group model's: its first feature).
 */
export function episodeSnapshot(
  tenant: string,
  sensor: { id: string; group?: string },
  change: EpisodeChange,
  model: { name: string; version: string },
  subject: EpisodeSubject = singleSensor(sensor.id),
): EpisodeSnapshot {
  const e = change.episode;
  return {
    revision: e.revision,
    episode: {
      id: episodeId(tenant, subject.key, e.onset),
      sensorId: sensor.id,
      ...(sensor.group ? { group: sensor.group } : {}),
      status: change.status,
      start: iso(e.onset),
      end: iso(e.lastActive),
      ...(change.closedAt !== undefined ? { closedAt: iso(change.closedAt) } : {}),
      peakScore: e.peakScore,
      peakAt: iso(e.peakAt),
      severity: severityOf(e.peakScore),
      kind: e.kind,
      points: e.points,
      sensors: subject.sensors,
      model,
    },
  };
}
