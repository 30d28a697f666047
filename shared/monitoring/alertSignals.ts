import { z } from 'zod';
import { detailTypes } from '../platform/events.js';
import { severities, type Severity } from '../sensors/episodes.js';
import type { AlertCondition } from './alertRule.js';
import { describeDriftedFeatures, driftAlertSubject, driftDetectedDetail, driftResolvedDetail, type DriftDetectedDetail, type DriftResolvedDetail } from './driftEvents.js';

/**
 * Bus events as alert signals. A rule is filed under the index keys of its condition; an event
 * names the keys of the rules it may concern, so evaluating it is one lookup per key (a Query on
 * DynamoDB, a Map get in process), never a scan of the tenant's rules.
 */

/** The key of the rules every schedule tick looks at (time-based conditions). */
export const scheduledKey = 'schedule';

export function ruleKeyOf(condition: AlertCondition): string {
  switch (condition.kind) {
    case 'anomalyOpened': {
      const on = condition.on;
      return on.sensorId !== undefined ? `sensor:${on.sensorId}` : on.group !== undefined ? `group:${on.group}` : `model:${on.model}`;
    }
    case 'driftDetected':
      return `drift:${condition.group ?? '*'}`;
    case 'pipelineFailed':
      return `pipeline:${condition.pipeline ?? '*'}`;
    default:
      return scheduledKey;
  }
}

/** What an event asks of the rules it concerns: fire an alert, or resolve the one open. */
export interface AlertSignal {
  tenant: string;
  effect: 'fire' | 'resolve';
  /** Index keys of the rules this event may concern. */
  keys: string[];
  /** The alert's subject (a sensor, a group, a dataset): one open alert per rule and subject. */
  subject: string;
  /** The occurrence that fires: its redeliveries and retries claim the same alert, never a second one. */
  occurrence: string;
  summary: string;
  /** The event's detail, sent on with the alert. */
  facts: Record<string, unknown>;
  correlationId?: string;
  /** Further conditions of a rule beyond its key (e.g. a minimum severity). */
  matches(condition: AlertCondition): boolean;
  /** Anomaly episodes: when the episode started, and how long it has lasted so far (for a minimum duration). */
  episode?: { start: string; lastedMs: number };
}

const anomalyDetail = z.looseObject({
  tenant: z.string(),
  episodeId: z.string(),
  sensorId: z.string(),
  group: z.string().optional(),
  start: z.string(),
  end: z.string().optional(),
  peakScore: z.number(),
  severity: z.enum(severities),
  model: z.looseObject({ name: z.string() }).optional(),
  correlationId: z.string().optional(),
});
const pipelineDetail = z.looseObject({
  tenant: z.string(),
  pipeline: z.literal('training').optional(),
  datasetId: z.string().optional(),
  modelId: z.string().optional(),
  runId: z.string().optional(),
  jobId: z.string().optional(),
  step: z.string().optional(),
  cause: z.string().optional(),
  correlationId: z.string().optional(),
});

const severityRank = (s: Severity) => severities.indexOf(s);

/** The signal of a bus event, or undefined for an event no rule is about. */
export function signalOf(detailType: string, eventId: string, rawDetail: unknown): AlertSignal | undefined {
  switch (detailType) {
    case detailTypes.anomalyOpened:
    case detailTypes.anomalyClosed: {
      const d = anomalyDetail.parse(rawDetail);
      const opened = detailType === detailTypes.anomalyOpened;
      return {
        tenant: d.tenant,
        effect: opened ? 'fire' : 'resolve',
        keys: [`sensor:${d.sensorId}`, ...(d.group ? [`group:${d.group}`] : []), ...(d.model ? [`model:${d.model.name}`] : [])],
        subject: d.sensorId,
        // An episode opens once: a republished anomaly.opened of it is the same occurrence.
        occurrence: `episode:${d.episodeId}`,
        summary: opened
          ? `${d.severity} anomaly on ${d.sensorId} since ${d.start} (peak score ${d.peakScore.toFixed(2)})`
          : `the anomaly on ${d.sensorId} that started ${d.start} is over`,
        facts: d,
        correlationId: d.correlationId,
        episode: { start: d.start, lastedMs: Math.max(0, Date.parse(d.end ?? d.start) - Date.parse(d.start)) },
        matches: (c) =>
          c.kind === 'anomalyOpened' &&
          (!opened || ((c.minSeverity === undefined || severityRank(d.severity) >= severityRank(c.minSeverity)) && (c.minPeakScore === undefined || d.peakScore >= c.minPeakScore))),
      };
    }
    case detailTypes.driftDetected:
    case detailTypes.driftResolved: {
      const detected = detailType === detailTypes.driftDetected;
      const d: DriftResolvedDetail & Partial<Pick<DriftDetectedDetail, 'features'>> = detected ? driftDetectedDetail.parse(rawDetail) : driftResolvedDetail.parse(rawDetail);
      const model = `the ${d.role} ${d.modelId} v${d.version} of ${d.group}`;
      const minutes = Math.round((Date.parse(d.window.to) - Date.parse(d.window.from)) / 60_000);
      return {
        tenant: d.tenant,
        effect: detected ? 'fire' : 'resolve',
        keys: [`drift:${d.group}`, 'drift:*'],
        // Per model version: a champion and its challenger drift apart, and a new version is a new alert.
        subject: driftAlertSubject(d),
        // One drift episode fires once, however often its event is published.
        occurrence: `drift:${d.driftId}`,
        summary:
          d.features
            ? `drift on ${model} over the last ${minutes} minutes (${d.window.rows} rows): ${describeDriftedFeatures(d.features)}`
            : `${model} matches its training data again (last ${minutes} minutes, ${d.window.rows} rows)`,
        facts: d,
        correlationId: d.correlationId,
        matches: (c) => c.kind === 'driftDetected',
      };
    }
    case detailTypes.pipelineFailed: {
      const d = pipelineDetail.parse(rawDetail);
      const pipeline = d.pipeline === 'training' ? 'training' : 'dataset';
      const subject = (pipeline === 'training' ? d.modelId : d.datasetId) ?? pipeline;
      return {
        tenant: d.tenant,
        effect: 'fire',
        keys: [`pipeline:${pipeline}`, 'pipeline:*'],
        subject,
        // One failure per run (or training job): the same run failing again is the same occurrence.
        occurrence: `run:${d.runId ?? d.jobId ?? eventId}`,
        summary: `the ${pipeline} pipeline of ${subject} failed${d.step ? ` at ${d.step}` : ''}${d.cause ? `: ${d.cause}` : ''}`,
        facts: d,
        correlationId: d.correlationId,
        matches: (c) => c.kind === 'pipelineFailed',
      };
    }
    default:
      return undefined;
  }
}

/** The bus events the evaluator listens to. */
export const evaluatedDetailTypes = [detailTypes.anomalyOpened, detailTypes.anomalyClosed, detailTypes.driftDetected, detailTypes.driftResolved, detailTypes.pipelineFailed] as const;
