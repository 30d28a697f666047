import { createHash } from 'node:crypto';
import { z } from 'zod';
import { anomalyKinds, type AnomalyKind } from '../ml/streaming/state.js';

/**
 * Anomaly episodes, not points: scored readings of one sensor go through a hysteresis tracker.
 * An episode opens when a score reaches `openAbove`; it grows while scores stay at or above
 * `closeBelow`; it closes at the first reading that comes `quietMs` after the last such score.
 * The gap between the two thresholds and the quiet period are what keep a flapping sensor from
 * opening ten episodes.
 */
export interface EpisodePolicy {
  openAbove: number;
  closeBelow: number;
  quietMs: number;
}

/** The quiet period lasts this many sampling intervals, and at least a minute. */
const QUIET_SAMPLES = 30;
const MIN_QUIET_MS = 60_000;

/** The policy of a sensor scored by a detector with `threshold`; interval unknown means one reading a minute. */
export function episodePolicy(threshold: number, samplingIntervalSeconds = 60): EpisodePolicy {
  return { openAbove: threshold, closeBelow: (threshold * 2) / 3, quietMs: Math.max(MIN_QUIET_MS, QUIET_SAMPLES * samplingIntervalSeconds * 1000) };
}

export const severities = ['minor', 'major', 'critical'] as const;
export type Severity = (typeof severities)[number];

/** Severity from the peak score (a calibrated -log10(p)/10): p below 1e-9 is critical, below 1e-7.5 major. */
export function severityOf(peakScore: number): Severity {
  return peakScore >= 0.9 ? 'critical' : peakScore >= 0.75 ? 'major' : 'minor';
}

/** The episode being tracked, kept in the scorer's state between batches. */
export const activeEpisode = z.object({
  onset: z.number(),
  /** Timestamp of the last reading scored at or above closeBelow. */
  lastActive: z.number(),
  peakScore: z.number(),
  peakAt: z.number(),
  kind: z.enum(anomalyKinds).nullable(),
  /** Readings at or above closeBelow. */
  points: z.number().int(),
  /** Bumped each batch the episode changes, so a stale snapshot never overwrites a newer one. */
  revision: z.number().int(),
});
export type ActiveEpisode = z.infer<typeof activeEpisode>;

export const trackerState = z.object({ active: activeEpisode.nullable() });
export type TrackerState = z.infer<typeof trackerState>;

export const episodeEventKinds = ['opened', 'closed'] as const;
export type EpisodeEventKind = (typeof episodeEventKinds)[number];

/** An episode as a batch left it, and the events the batch owes for it, in order. */
export interface EpisodeChange {
  episode: ActiveEpisode;
  status: 'open' | 'closed';
  /** When closed: the timestamp of the reading that ended the quiet period. */
  closedAt?: number;
  events: EpisodeEventKind[];
}

export interface ScoredPoint {
  timestamp: number;
  score: number;
  kind: AnomalyKind | null;
}

/** Runs points (sorted by time) through the tracker: the new state and one change per episode touched. */
export function trackEpisodes(state: TrackerState, points: readonly ScoredPoint[], policy: EpisodePolicy): { state: TrackerState; changes: EpisodeChange[] } {
  let active = state.active ? { ...state.active } : null;
  const changes: EpisodeChange[] = [];
  let current: EpisodeChange | undefined;
  const touch = (episode: ActiveEpisode): EpisodeChange => {
    if (!current) {
      episode.revision += 1;
      current = { episode, status: 'open', events: [] };
      changes.push(current);
    }
    return current;
  };
  for (const p of points) {
    if (active) {
      if (p.score >= policy.closeBelow) {
        active.lastActive = p.timestamp;
        active.points += 1;
        if (p.score > active.peakScore) Object.assign(active, { peakScore: p.score, peakAt: p.timestamp, kind: p.kind ?? active.kind });
        touch(active);
      } else if (p.timestamp - active.lastActive >= policy.quietMs) {
        const change = touch(active);
        change.status = 'closed';
        change.closedAt = p.timestamp;
        change.events.push('closed');
        active = null;
        current = undefined;
      }
    } else if (p.score >= policy.openAbove) {
      active = { onset: p.timestamp, lastActive: p.timestamp, peakScore: p.score, peakAt: p.timestamp, kind: p.kind, points: 1, revision: 0 };
      touch(active).events.push('opened');
    }
  }
  return { state: { active }, changes };
}

/** The same tenant, sensor and onset always give the same id: a redelivered batch cannot open a second episode. */
export function episodeId(tenant: string, sensorId: string, onset: number): string {
  return `ep-${createHash('sha256').update(`${tenant}\u0000${sensorId}\u0000${onset}`).digest('hex').slice(0, 24)}`;
}
