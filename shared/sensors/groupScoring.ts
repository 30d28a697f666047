import { z } from 'zod';
import type { GroupModels, RoutedGroupModel } from '../ml/registry/groupPrediction.js';
import type { EventPublisher } from '../platform/events.js';
import { ConflictError } from '../platform/errors.js';
import { resourceId } from '../platform/ids.js';
import { episodeSnapshot, type EpisodeStore, type SensorContribution } from './episode.js';
import { episodePolicy, trackEpisodes, trackerState, type ScoredPoint } from './episodes.js';
import type { GroupScoringMessage } from './groupScoringMessage.js';
import { alignReadings, type AlignedRows } from './labelledHistory.js';
import type { ReadingsStore } from './readingsStore.js';
import { applyEffects, eventCounts, type EffectDeps, type CommittedState, type PendingEffects, type StateStore } from './scoring.js';
import type { Sensor } from './sensor.js';

const sensorContribution = z.object({ sensorId: resourceId, contribution: z.number() });

/** A deployed model's episode tracker in a group, and the contributions at its open episode's peak. */
export const modelTracker = z.object({ tracker: trackerState, peak: z.array(sensorContribution).nullable() });
export type ModelTracker = z.infer<typeof modelTracker>;

/**
 * The group scorer's state of one group: one tracker per model version that scored it (champion
 * and challenger keep their own episodes); `lastTimestamp` is the newest row scored, whichever model.
 */
export interface GroupScorerState extends CommittedState {
  trackers: Record<string, ModelTracker>;
}

export interface GroupScoringDeps extends Pick<EffectDeps, 'now' | 'claimMs'> {
  states: StateStore<GroupScorerState>;
  episodes: EpisodeStore;
  events: EventPublisher;
  readings: Pick<ReadingsStore, 'range'>;
  sensors: { get(tenant: string, id: string): Promise<Pick<Sensor, 'samplingIntervalSeconds'> | undefined> };
  models: GroupModels;
}

export interface GroupScoringOutcome {
  /** Why nothing was scored: the group has no deployment, or its model does not take this sensor. */
  skipped?: 'no deployment' | 'not a feature';
  /** The model version and role that scored the rows. */
  model?: { id: string; version: number; role: RoutedGroupModel['deployment']['role']; revision: number };
  scored: number;
  /** Rows of the first feature another feature had no reading for within the sampling interval (left out, or waiting for it). */
  unaligned: number;
  opened: number;
  closed: number;
  attempts: number;
}

const HOUR_MS = 3_600_000;
const MAX_ATTEMPTS = 8;
const modelKey = (routed: RoutedGroupModel) => `${routed.model.modelId}@${routed.model.version}`;

/**
 * The routing key of a stretch of readings: the group's hour it starts in. The readings of one
 * hour go to one model (champion, or challenger for its traffic share, as POST /ml/predict routes a
 * key), so each model sees unbroken stretches, and a redelivery goes to the same model.
 */
export const groupRoutingKey = (from: number) => `hour-${Math.floor(from / HOUR_MS)}`;

async function collect(readings: GroupScoringDeps['readings'], tenant: string, sensorId: string, from: number, to: number) {
  const points: { timestamp: number; value: number }[] = [];
  for await (const r of readings.range(tenant, sensorId, from, to)) points.push({ timestamp: r.timestamp, value: r.value });
  return points;
}

/**
 * The group's rows after `last`: each reading of the first feature with the other features'
 * readings nearest in time, within the sampling interval. `settled` is how far rows are final: a
 * row of the first feature no later than every other feature's newest reading (less the interval)
 * that has no partner now never will (readings arrive in order); later ones wait for their partners.
 */
async function groupRows(deps: GroupScoringDeps, tenant: string, features: readonly string[], last: number, to: number, toleranceMs: number): Promise<AlignedRows & { settled: number }> {
  const series = await Promise.all(
    features.map((id, k) => (k === 0 ? collect(deps.readings, tenant, id, last + 1, to + 1) : collect(deps.readings, tenant, id, last + 1 - toleranceMs, to + toleranceMs + 1))),
  );
  const rows = alignReadings(series, toleranceMs);
  const partnersUntil = Math.min(...series.slice(1).map((s) => (s.length > 0 ? s[s.length - 1].timestamp - toleranceMs : last)));
  let settled = rows.timestamps.length > 0 ? rows.timestamps[rows.timestamps.length - 1] : last;
  for (const r of series[0]) if (r.timestamp <= partnersUntil && r.timestamp > settled) settled = r.timestamp;
  return { ...rows, settled };
}

/** Each feature's share of the row's anomaly; equal shares when the model gives none (a model brought without contributions). */
function contributionsOf(features: readonly string[], contributions: readonly number[] | null): SensorContribution[] {
  return features.map((sensorId, c) => ({ sensorId, contribution: contributions ? contributions[c] : 1 / features.length }));
}

/**
 * Scores a group's new rows with its deployed model and tracks the model's episodes.
 * Primary course: the group's deployment routes the stretch (by its hour) to the champion or the
 * challenger; the model's features are sensors, whose readings after the group's last scored row
 * are read from the store and aligned on the first feature within its sampling interval; the rows
 * are scored by POST /ml/predict's code; the scores go through the same hysteresis tracker as a
 * sensor's, one per model version; state and episode changes are committed on condition the
 * version is unchanged, then the episodes are written and announced, naming the model and version,
 * the group's sensors and their contributions at the peak.
 * Alternatives: no deployment, or a sensor the model does not take: nothing to do. Rows still
 * waiting for another sensor's reading: left for that sensor's message. Another scorer committed
 * first: re-read and retry.
 */
export async function scoreGroupReadings(deps: GroupScoringDeps, message: GroupScoringMessage): Promise<GroupScoringOutcome> {
  const { tenant, group } = message;
  const routed = await deps.models.route(tenant, group, groupRoutingKey(message.from));
  const outcome: GroupScoringOutcome = { scored: 0, unaligned: 0, opened: 0, closed: 0, attempts: 0 };
  if (!routed) return { ...outcome, skipped: 'no deployment' };
  if (!routed.features.includes(message.sensorId)) return { ...outcome, skipped: 'not a feature' };
  outcome.model = { id: routed.model.modelId, version: routed.model.version, role: routed.deployment.role, revision: routed.deployment.revision };
  const features = routed.features;
  const reference = { id: features[0], group, samplingIntervalSeconds: (await deps.sensors.get(tenant, features[0]))?.samplingIntervalSeconds };
  const toleranceMs = (reference.samplingIntervalSeconds ?? 60) * 1000;
  const key = modelKey(routed);
  const subjectKey = `${group}/${key}`;

  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    outcome.attempts = attempt;
    const stored = await deps.states.load(tenant, group);
    if (stored?.pending) await applyEffects(deps, tenant, group, stored.pending, stored.version);
    const last = stored?.lastTimestamp ?? Number.NEGATIVE_INFINITY;
    const from = Number.isFinite(last) ? last : message.from - toleranceMs;
    const rows = await groupRows(deps, tenant, features, from, message.to, toleranceMs);
    if (rows.settled <= from) return outcome;

    const scored = rows.matrix.rows > 0 ? await deps.models.score(tenant, routed, rows.matrix) : { threshold: 1, results: [] };
    const rowAt = new Map(rows.timestamps.map((t, i) => [t, i]));
    const peakAt = (t: number) => {
      const i = rowAt.get(t);
      return i === undefined ? undefined : contributionsOf(features, scored.results[i].contributions);
    };
    const points: ScoredPoint[] = rows.timestamps.map((timestamp, i) => ({ timestamp, score: scored.results[i].score, kind: null }));
    const before = stored?.trackers[key] ?? { tracker: { active: null }, peak: null };
    const tracked = trackEpisodes(before.tracker, points, episodePolicy(scored.threshold, reference.samplingIntervalSeconds));
    const model = { name: routed.model.modelId, version: String(routed.model.version) };
    const pending: PendingEffects | null =
      tracked.changes.length === 0
        ? null
        : {
            episodes: tracked.changes.map((change) => {
              const sensors = peakAt(change.episode.peakAt) ?? before.peak ?? contributionsOf(features, null);
              return { snapshot: episodeSnapshot(tenant, reference, change, model, { key: subjectKey, sensors }), events: change.events };
            }),
            ...(message.correlationId ? { correlationId: message.correlationId } : {}),
          };
    const active = tracked.state.active;
    const after: ModelTracker = { tracker: tracked.state, peak: active ? (peakAt(active.peakAt) ?? before.peak) : null };
    const expected = stored?.version ?? 0;
    const next: GroupScorerState = { version: expected + 1, lastTimestamp: rows.settled, trackers: { ...stored?.trackers, [key]: after }, pending };
    if (!(await deps.states.save(tenant, group, next, expected))) continue;
    if (pending) await applyEffects(deps, tenant, group, pending, next.version);
    return { ...outcome, scored: rows.matrix.rows, unaligned: rows.droppedRows, ...eventCounts(pending) };
  }
  throw new ConflictError(`Group "${group}": other scorers kept winning the state; the message will come back.`);
}
