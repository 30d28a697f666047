import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { StreamingDetector } from '../ml/streaming/detector.js';
import type { StreamingState } from '../ml/streaming/state.js';
import { detailTypes, type DetailType, type EventPublisher } from '../platform/events.js';
import { ConflictError } from '../platform/errors.js';
import { episodeEventId, episodeSnapshot, type EpisodeSnapshot, type EpisodeStore } from './episode.js';
import { episodePolicy, trackEpisodes, type EpisodeEventKind, type ScoredPoint, type TrackerState } from './episodes.js';
import type { GroupScoringMessage } from './groupScoringMessage.js';
import type { ReadingsMessage } from './readingMessages.js';
import type { ReadingScore, ReadingsStore } from './readingsStore.js';
import type { Sensor } from './sensor.js';
import type { WarmupHistory } from './warmupHistory.js';

/** The streaming detector's name and version, recorded on episodes scored without a deployed model. */
export const streamingModel = { name: 'streaming', version: '1' } as const;

/**
 * What a committed batch still owes the world: episode snapshots to write and announce. They are
 * committed with the state, then applied; a scorer that crashes in between leaves them to the next
 * delivery, which applies them again (every effect is idempotent). Scores are not among them: they
 * are stored before the commit (see scoreReadings), so the state item stays about a kilobyte.
 */
export const pendingEffects = z.object({
  episodes: z.array(z.object({ snapshot: z.custom<EpisodeSnapshot>(), events: z.array(z.enum(['opened', 'closed'])) })).min(1),
  correlationId: z.string().optional(),
});
export type PendingEffects = z.infer<typeof pendingEffects>;

/** What every scorer's state holds: a version for conditional writes, where it is up to, and what it still owes. */
export interface CommittedState {
  /** Bumped by every committed batch; a write expects the version it read. */
  version: number;
  /** Readings at or before this timestamp were scored already (or arrived late). */
  lastTimestamp: number;
  /** Effects of the last committed batch not yet known to be applied. */
  pending: PendingEffects | null;
}

/** The scorer's state of one sensor, kept between batches. */
export interface ScorerState extends CommittedState {
  detector: StreamingState;
  tracker: TrackerState;
}

/** The port of a scorer's state (of a sensor, or of a group), written on condition that its version is unchanged. */
export interface StateStore<S extends CommittedState> {
  load(tenant: string, key: string): Promise<S | undefined>;
  /** Writes `state` with version expectedVersion + 1 (expectedVersion 0: the state must not exist); false when another scorer won. */
  save(tenant: string, key: string, state: S, expectedVersion: number): Promise<boolean>;
  /** Drops the pending effects of `version` once applied; a newer version is left alone. */
  clearPending(tenant: string, key: string, version: number): Promise<void>;
}
export type ScorerStateStore = StateStore<ScorerState>;

/** The port of the group-scoring queue: a sensor of a group has new readings in [from, to]. */
export interface GroupScoringQueue {
  send(message: GroupScoringMessage): Promise<void>;
}

export interface ScoringDeps extends Pick<EffectDeps, 'now' | 'claimMs'> {
  states: ScorerStateStore;
  episodes: EpisodeStore;
  scores: Pick<ReadingsStore, 'putScores'>;
  events: EventPublisher;
  sensors: { get(tenant: string, id: string): Promise<Sensor | undefined> };
  /** Where a sensor of a group announces its readings to the group's deployed model (shared/sensors/groupScoring.ts). */
  groupScoring?: GroupScoringQueue;
  /** History a new sensor's detector learns from (the dataset it names); without it, its first readings warm it up. */
  history?: (tenant: string, sensor: Pick<Sensor, 'id' | 'warmupDatasetId'>) => Promise<WarmupHistory | undefined>;
}

export interface ScoringOutcome {
  scored: number;
  /** Readings at or before the state's last scored timestamp, or marked late. */
  skipped: number;
  opened: number;
  closed: number;
  /** Conditional writes tried; more than one means another scorer held the sensor's state. */
  attempts: number;
  /** A new sensor's warm-up from the dataset it names: the points learnt, or why the dataset was skipped. */
  warmup?: { datasetId: string; points: number } | { datasetId: string; skipped: string };
}

/** Conditional writes lost to other scorers before the message is left to its redelivery. */
const MAX_ATTEMPTS = 8;

/**
 * Scores one message's readings with the sensor's streaming detector.
 * Primary course: load the state, score the readings after its last timestamp and store the scores,
 * track episodes, commit state and episode changes on condition the version is unchanged, then
 * write the episodes and publish anomaly.opened / anomaly.closed.
 * Scores go out before the commit: they are a function of the state read and the readings, so a
 * retry after a crash writes the same ones again; a scorer that loses the commit to another scores
 * again from the winner's state and overwrites them (a reading the winner's batch made late keeps
 * the loser's score, where it would otherwise have none).
 * Alternatives: another scorer committed first, re-read and retry; nothing new (a redelivery),
 * only the episode changes a crashed run left are applied.
 */
export async function scoreReadings(deps: ScoringDeps, message: ReadingsMessage): Promise<ScoringOutcome> {
  const { tenant, sensorId } = message;
  const sensor: Pick<Sensor, 'id' | 'group' | 'samplingIntervalSeconds' | 'warmupDatasetId'> = (await deps.sensors.get(tenant, sensorId)) ?? { id: sensorId };
  await forwardToGroup(deps, sensor, message);
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const stored = await deps.states.load(tenant, sensorId);
    if (stored?.pending) await applyEffects(deps, tenant, sensorId, stored.pending, stored.version);
    const last = stored?.lastTimestamp ?? Number.NEGATIVE_INFINITY;
    const fresh = message.readings.filter((r) => !r.late && r.timestamp > last);
    const outcome: ScoringOutcome = { scored: fresh.length, skipped: message.readings.length - fresh.length, opened: 0, closed: 0, attempts: attempt };
    if (fresh.length === 0) return outcome;

    const { detector, warmup } = stored ? { detector: StreamingDetector.restore(stored.detector), warmup: undefined } : await newDetector(deps, tenant, sensor);
    const { points, scores, newest, late } = scoreInOrder(detector, fresh, last);
    outcome.scored -= late;
    outcome.skipped += late;
    const policy = episodePolicy(detector.surpriseThreshold, sensor.samplingIntervalSeconds);
    const tracked = trackEpisodes(stored?.tracker ?? { active: null }, points, policy);
    const pending: PendingEffects | null =
      tracked.changes.length === 0
        ? null
        : {
            episodes: tracked.changes.map((change) => ({ snapshot: episodeSnapshot(tenant, sensor, change, streamingModel), events: change.events })),
            ...(message.correlationId ? { correlationId: message.correlationId } : {}),
          };
    await deps.scores.putScores(tenant, sensorId, scores);
    const expected = stored?.version ?? 0;
    if (warmup) outcome.warmup = warmup;
    const next: ScorerState = { version: expected + 1, lastTimestamp: newest, detector: detector.serialize(), tracker: tracked.state, pending };
    if (!(await deps.states.save(tenant, sensorId, next, expected))) continue;
    if (pending) await applyEffects(deps, tenant, sensorId, pending, next.version);
    return { ...outcome, ...eventCounts(pending) };
  }
  throw new ConflictError(`Sensor "${sensorId}": other scorers kept winning the state; the message will come back.`);
}

/**
 * The readings are stored already (the writer stores before it forwards), so the group's scorer can
 * read them now. Sent before the sensor's own scoring: a retry sends again, which the queue's
 * de-duplication and the group scorer's last timestamp both absorb.
 */
async function forwardToGroup(deps: ScoringDeps, sensor: Pick<Sensor, 'group'>, message: ReadingsMessage): Promise<void> {
  if (!deps.groupScoring || !sensor.group) return;
  // A message's readings are sorted by timestamp.
  await deps.groupScoring.send({
    tenant: message.tenant,
    group: sensor.group,
    sensorId: message.sensorId,
    from: message.readings[0].timestamp,
    to: message.readings[message.readings.length - 1].timestamp,
    ...(message.correlationId ? { correlationId: message.correlationId } : {}),
  });
}

/** A new sensor's detector; one that names a dataset learns from its history first, so it scores from its first live reading. */
async function newDetector(deps: ScoringDeps, tenant: string, sensor: Pick<Sensor, 'id' | 'warmupDatasetId'>): Promise<{ detector: StreamingDetector; warmup: ScoringOutcome['warmup'] }> {
  const detector = new StreamingDetector();
  const history = await deps.history?.(tenant, sensor);
  if (!history) return { detector, warmup: undefined };
  if (!('values' in history)) return { detector, warmup: history };
  for (const v of history.values) detector.update(v);
  return { detector, warmup: { datasetId: history.datasetId, points: history.values.length } };
}

/** Scores readings after `last` in order; one not after the newest scored (a replay may interleave) is late, and skipped. */
function scoreInOrder(detector: StreamingDetector, readings: ReadingsMessage['readings'], last: number) {
  // Episodes follow the alarm channels' surprise, which lasts as long as the anomaly; the stored score marks its onset.
  const points: ScoredPoint[] = [];
  const scores: ReadingScore[] = [];
  let newest = last;
  let late = 0;
  for (const r of readings) {
    if (r.timestamp <= newest) {
      late += 1;
      continue;
    }
    newest = r.timestamp;
    const p = detector.update(r.value);
    points.push({ timestamp: r.timestamp, score: p.surprise, kind: p.kind });
    scores.push({ timestamp: r.timestamp, score: p.score, label: p.label ? 1 : 0 });
  }
  return { points, scores, newest, late };
}

const eventType: Record<EpisodeEventKind, DetailType> = {
  opened: detailTypes.anomalyOpened,
  closed: detailTypes.anomalyClosed,
};

/** The episodes a committed batch opened and closed. */
export function eventCounts(pending: PendingEffects | null): { opened: number; closed: number } {
  const events = (pending?.episodes ?? []).flatMap((e) => e.events);
  return { opened: events.filter((k) => k === 'opened').length, closed: events.filter((k) => k === 'closed').length };
}

/** What applying a committed batch's effects needs: the episodes, the bus, and the state to clear them from. */
export interface EffectDeps {
  episodes: EpisodeStore;
  events: EventPublisher;
  states: Pick<StateStore<CommittedState>, 'clearPending'>;
  /** Epoch ms; the claims' clock (tests move it). */
  now?: () => number;
  /** How long a claim to publish holds (EVENT_CLAIM_SECONDS); default 30 s. */
  claimMs?: number;
}

/**
 * How long a claim to publish an event holds: far longer than a PutEvents, far shorter than the
 * scoring queues' visibility timeout (after which a dead publisher's message comes back). The local
 * cloud scales it with its queues' times.
 */
export const EVENT_CLAIM_SECONDS = 30;
export const eventClaimEnv = z.object({ EVENT_CLAIM_SECONDS: z.coerce.number().positive().max(300).default(EVENT_CLAIM_SECONDS) });
/** While another publisher holds an event's claim, look again this often, this many times, then let the message come back. */
const CLAIM_RETRY_MS = 100;
const CLAIM_RETRIES = 5;

/**
 * Publishes one event of an episode at most once: the publish is claimed on the episode first (a
 * conditional write), so two scorers side by side never both send it. Only a publisher that dies
 * between PutEvents and the note sends it twice, once its claim lapses, with the same eventId.
 */
async function publishOnce(deps: EffectDeps, tenant: string, snapshot: EpisodeSnapshot, kind: EpisodeEventKind, correlationId: string | undefined): Promise<void> {
  const id = snapshot.episode.id;
  const now = deps.now ?? Date.now;
  const by = randomUUID();
  for (let tries = 0; ; tries++) {
    const claim = await deps.episodes.claimEvent(tenant, id, kind, { by, until: now() + (deps.claimMs ?? EVENT_CLAIM_SECONDS * 1000) }, now());
    if (claim === 'sent') return;
    if (claim === 'claimed') break;
    if (tries >= CLAIM_RETRIES) throw new ConflictError(`Episode ${id}: another scorer is publishing ${kind}; the message will come back.`);
    await sleep(CLAIM_RETRY_MS);
  }
  try {
    await deps.events.publish(eventType[kind], { tenant, episodeId: id, eventId: episodeEventId(id, kind), ...snapshot.episode, ...(correlationId ? { correlationId } : {}) });
  } catch (error) {
    await deps.episodes.releaseEvent(tenant, id, kind, by);
    throw error;
  }
  await deps.episodes.markNotified(tenant, id, kind);
}

/** Idempotent: snapshots never go back in revision, an event already noted is not sent again. */
export async function applyEffects(deps: EffectDeps, tenant: string, stateKey: string, effects: PendingEffects, version: number): Promise<void> {
  for (const { snapshot, events } of effects.episodes) {
    // The batch that opened or closed the episode is one that led to it; batches that only extend it are not kept (an episode may last days).
    const { notified } = await deps.episodes.save(tenant, events.length > 0 && effects.correlationId ? { ...snapshot, correlationId: effects.correlationId } : snapshot);
    for (const kind of events) if (!notified.includes(kind)) await publishOnce(deps, tenant, snapshot, kind, effects.correlationId);
  }
  await deps.states.clearPending(tenant, stateKey, version);
}
