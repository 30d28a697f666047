import { createHash } from 'node:crypto';
import { z } from 'zod';
import { detectDrift, DRIFT_THRESHOLDS, referenceSummarySchema, type DriftReport, type ReferenceSummary } from '../ml/drift/index.js';
import type { Deployment, DeploymentRole } from '../mlops/deployment.js';
import { detailTypes, type EventPublisher } from '../platform/events.js';
import { alignReadings } from '../sensors/labelledHistory.js';
import type { ReadingsRange } from './alertSchedule.js';
import { driftDetectedDetail, driftResolvedDetail } from './driftEvents.js';

/**
 * The drift check of deployed models: on a schedule, each group's champion and challenger are
 * compared with their training reference (the manifest's `reference`) on the group's recent
 * readings, by POST /ml/drift's code (KS and PSI per feature). A model whose features are sensors
 * is checked on its sensors' readings, aligned as the group scorer aligns them.
 */

/**
 * The drift state of one (tenant, group, model version), kept by the monitoring context. Every
 * change is a conditional write on `revision`, so of two overlapping ticks one makes a transition.
 */
export const driftState = z.object({
  status: z.enum(['drifted', 'clear']),
  /** The role's `since` in the deployment this state was recorded under: a redeployed version starts afresh. */
  deployedSince: z.string(),
  /** The transition's event, published (`announced`) after the state is written, so a crash in between republishes it. */
  event: z.discriminatedUnion('type', [
    z.object({ type: z.literal(detailTypes.driftDetected), detail: driftDetectedDetail }),
    z.object({ type: z.literal(detailTypes.driftResolved), detail: driftResolvedDetail }),
  ]),
  announced: z.boolean(),
  revision: z.number().int().min(1),
});
export type DriftState = z.infer<typeof driftState>;

/** The port of drift states; shared/aws/driftStateRepository.ts has the DynamoDB adapter. */
export interface DriftStateStore {
  get(tenant: string, group: string, modelId: string, version: number): Promise<DriftState | undefined>;
  /** Stores `state` while the stored revision is `state.revision - 1` (none for 1); false when another tick won. */
  save(tenant: string, group: string, modelId: string, version: number, state: DriftState): Promise<boolean>;
}

/** What the check needs of a model version: its features (sensor ids, in order) and its training reference. */
export interface ModelReference {
  features: string[];
  reference?: ReferenceSummary;
}

/** The features and reference of a stored manifest.json; undefined for a manifest without features (none of ours). */
export function referenceOfManifest(manifest: unknown): ModelReference | undefined {
  // A model brought by its owner has features but no reference; an older trained one may lack it too.
  const parsed = z.looseObject({ features: z.array(z.string().min(1)).min(1), reference: referenceSummarySchema.optional() }).safeParse(manifest);
  return parsed.success ? { features: parsed.data.features, ...(parsed.data.reference ? { reference: parsed.data.reference } : {}) } : undefined;
}

export interface DriftCheckSettings {
  /** The readings compared: the last `windowMs` before the tick. */
  windowMs: number;
  /** Fewer aligned rows than this in the window: no verdict (the tests need a sample). */
  minRows: number;
}

export interface DriftCheckDeps {
  readings: ReadingsRange;
  /** A model version's features and training reference (from its manifest.json); undefined when it has none. */
  references(tenant: string, modelId: string, version: number): Promise<ModelReference | undefined>;
  /** A sensor's sampling interval, seconds: the alignment's tolerance. */
  samplingIntervalSeconds(tenant: string, sensorId: string): Promise<number | undefined>;
  states: DriftStateStore;
  events: EventPublisher;
}

export type DriftCheckOutcome =
  | { outcome: 'skipped'; reason: string; rows?: number }
  | { outcome: 'detected' | 'resolved' | 'drifted' | 'clear' | 'raced'; verdict: DriftReport['verdict']; rows: number };

export interface CheckedModel {
  tenant: string;
  group: string;
  role: DeploymentRole;
  modelId: string;
  version: number;
  since: string;
}

/** The model versions a deployment serves: its champion, and its challenger when set. */
export function deployedModels(tenant: string, deployment: Deployment): CheckedModel[] {
  const { group, champion, challenger } = deployment;
  const checked = (role: DeploymentRole, m: Deployment['champion']): CheckedModel => ({ tenant, group, role, modelId: m.modelId, version: m.version, since: m.since });
  return [checked('champion', champion), ...(challenger ? [checked('challenger', challenger)] : [])];
}

const DEFAULT_TOLERANCE_SECONDS = 60;

async function pointsOf(readings: ReadingsRange, tenant: string, sensorId: string, from: number, to: number) {
  const points: { timestamp: number; value: number }[] = [];
  for await (const r of readings(tenant, sensorId, from, to)) points.push({ timestamp: r.timestamp, value: r.value });
  return points;
}

/** The window's rows: each reading of the first feature with the others' nearest within the first sensor's sampling interval. */
async function windowRows(deps: DriftCheckDeps, tenant: string, features: readonly string[], from: number, to: number): Promise<number[][]> {
  const toleranceMs = ((await deps.samplingIntervalSeconds(tenant, features[0])) ?? DEFAULT_TOLERANCE_SECONDS) * 1000;
  // The window is (from, to] (the store's ranges are [from, to)): successive ticks' windows meet without sharing a reading.
  const series = await Promise.all(features.map((id, k) => (k === 0 ? pointsOf(deps.readings, tenant, id, from + 1, to + 1) : pointsOf(deps.readings, tenant, id, from + 1 - toleranceMs, to + 1 + toleranceMs))));
  const { matrix } = alignReadings(series, toleranceMs);
  return Array.from({ length: matrix.rows }, (_, r) => Array.from(matrix.data.subarray(r * matrix.cols, (r + 1) * matrix.cols)));
}

const hex = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 24);

/**
 * Checks one deployed model version at a tick.
 * Primary course: the version's training reference and features (sensors) are read; the sensors'
 * readings of the window are aligned into rows and compared with the reference (KS and PSI per
 * feature). A significant verdict on a version not already drifted is a transition to drifted:
 * the state is written on condition (one tick wins), then `drift.detected` is published with the
 * drifted features and their statistics. While it stays drifted nothing more is published; once the
 * verdict is back to none (a moderate one keeps the episode, so a borderline model does not flap),
 * the state clears and `drift.resolved` is published, re-arming the check.
 * Alternatives: no reference (a model brought by its owner) or too few rows in the window: skipped,
 * with the reason. A transition written but not announced (a crash between the two) is announced
 * at the next tick, with the same drift id. Another tick wrote first: nothing more to do ('raced').
 */
export async function checkModelDrift(deps: DriftCheckDeps, settings: DriftCheckSettings, model: CheckedModel, tick: { at: string; correlationId: string }): Promise<DriftCheckOutcome> {
  const { tenant, group, modelId, version } = model;
  let stored = await deps.states.get(tenant, group, modelId, version);
  if (stored && !stored.announced) stored = await announce(deps, model, stored);

  const reference = await deps.references(tenant, modelId, version);
  if (!reference) return { outcome: 'skipped', reason: 'the model version has no manifest' };
  if (!reference.reference) return { outcome: 'skipped', reason: 'the model version has no training reference (a model brought by its owner, or trained before references were kept)' };
  const to = Date.parse(tick.at);
  const from = to - settings.windowMs;
  const rows = await windowRows(deps, tenant, reference.features, from, to);
  if (rows.length < settings.minRows) {
    return { outcome: 'skipped', reason: `${rows.length} aligned rows of ${reference.features.join(', ')} in the window, ${settings.minRows} needed`, rows: rows.length };
  }
  const report = detectDrift(reference.reference, rows, reference.features);

  // A state recorded under an earlier deployment of this version says nothing about this one.
  const current = stored && stored.deployedSince === model.since ? stored : undefined;
  const drifted = current?.status === 'drifted';
  const summary = { verdict: report.verdict, rows: rows.length };
  const becomes = !drifted && report.verdict === 'significant' ? 'drifted' : drifted && report.verdict === 'none' ? 'clear' : undefined;
  if (!becomes) return { outcome: drifted ? 'drifted' : 'clear', ...summary };

  const base = {
    tenant,
    group,
    modelId,
    version,
    role: model.role,
    window: { from: new Date(from).toISOString(), to: tick.at, rows: rows.length },
    correlationId: tick.correlationId,
  };
  // Deterministic: a retried tick makes the same episode, and a resolution carries its episode's id.
  const driftId = becomes === 'drifted' ? `dr-${hex(`${tenant}|${group}|${modelId}|${version}|${tick.at}`)}` : current!.event.detail.driftId;
  const event: DriftState['event'] =
    becomes === 'drifted'
      ? {
          type: detailTypes.driftDetected,
          detail: {
            ...base,
            driftId,
            verdict: 'significant',
            features: report.features.flatMap((f) => (f.verdict === 'none' ? [] : [{ ...f, verdict: f.verdict }])),
            thresholds: { ...DRIFT_THRESHOLDS },
          },
        }
      : { type: detailTypes.driftResolved, detail: { ...base, driftId } };
  const next: DriftState = { status: becomes, deployedSince: model.since, event, announced: false, revision: (stored?.revision ?? 0) + 1 };
  if (!(await deps.states.save(tenant, group, modelId, version, next))) return { outcome: 'raced', ...summary };
  await announce(deps, model, next);
  return { outcome: becomes === 'drifted' ? 'detected' : 'resolved', ...summary };
}

/** Publishes the state's transition event, then notes it announced; the state as it now stands. */
async function announce(deps: DriftCheckDeps, model: CheckedModel, state: DriftState): Promise<DriftState | undefined> {
  await deps.events.publish(state.event.type, state.event.detail);
  const noted: DriftState = { ...state, announced: true, revision: state.revision + 1 };
  // A lost note means another tick moved the state on (it republishes at worst the same event, same drift id).
  if (await deps.states.save(model.tenant, model.group, model.modelId, model.version, noted)) return noted;
  return deps.states.get(model.tenant, model.group, model.modelId, model.version);
}

export interface DeployedGroup {
  tenant: string;
  deployment: Deployment;
}

export type CheckResult = { model: CheckedModel } & ({ result: DriftCheckOutcome } | { error: unknown });

/**
 * A tick of the schedule: every tenant's deployed model versions checked in turn. A version whose
 * check fails is reported and the others still run.
 */
export async function* checkDeployedModels(deps: DriftCheckDeps & { deployments: AsyncIterable<DeployedGroup> }, settings: DriftCheckSettings, tick: { at: string; correlationId: string }): AsyncGenerator<CheckResult> {
  for await (const { tenant, deployment } of deps.deployments) {
    for (const model of deployedModels(tenant, deployment)) {
      try {
        yield { model, result: await checkModelDrift(deps, settings, model, tick) };
      } catch (error) {
        yield { model, error };
      }
    }
  }
}
