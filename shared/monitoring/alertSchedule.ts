import { forecastSeries } from '../ml/forecast/index.js';
import type { StoredReading } from '../sensors/readingsStore.js';
import type { ScheduledCondition } from './alertRule.js';
import { fireAlert, resolveAlert, type FiringDeps, type Outcome } from './alerts.js';
import type { StoredRule } from './alertStore.js';

/** Readings of a sensor in [from, to] (epoch ms), oldest first: the readings store's range query. */
export type ReadingsRange = (tenant: string, sensorId: string, from: number, to: number) => AsyncIterable<StoredReading>;

/** A scheduled condition's verdict now: fire with a summary, resolve, or no change (too little data). */
type Verdict = { fire: true; summary: string; facts: Record<string, unknown> } | { fire: false; summary: string } | undefined;

const minute = 60_000;
const hour = 60 * minute;

async function collect(readings: AsyncIterable<StoredReading>): Promise<StoredReading[]> {
  const all: StoredReading[] = [];
  for await (const r of readings) all.push(r);
  return all;
}

/** "about 3 days", "about 5 hours", "about 20 minutes". */
export function aboutDuration(ms: number): string {
  const [unit, size] = ms >= 2 * 24 * hour ? ['day', 24 * hour] : ms >= 2 * hour ? ['hour', hour] : ['minute', minute];
  const count = Math.max(1, Math.round(ms / (size as number)));
  return `about ${count} ${unit as string}${count === 1 ? '' : 's'}`;
}

/** Means per fixed interval (the forecast needs an even step); empty intervals are skipped. */
function intervalMeans(readings: readonly StoredReading[], intervalMs: number): { timestamps: number[]; values: number[] } {
  const sums = new Map<number, { sum: number; count: number }>();
  for (const r of readings) {
    const slot = Math.floor(r.timestamp / intervalMs) * intervalMs;
    const s = sums.get(slot) ?? { sum: 0, count: 0 };
    s.sum += r.value;
    s.count += 1;
    sums.set(slot, s);
  }
  const slots = [...sums.keys()].sort((a, b) => a - b);
  return { timestamps: slots, values: slots.map((t) => sums.get(t)!.sum / sums.get(t)!.count) };
}

/**
 * A predicted crossing: the sensor's forecast (the model of POST /ml/forecast, fitted on interval
 * means of the lookback) reaches the limit within the horizon. The alert says when, as the first
 * step whose mean crosses, and the window the forecast interval gives: from the first step the
 * interval's near edge crosses to the first step its far edge does.
 */
export function predictCrossing(condition: Extract<ScheduledCondition, { kind: 'predictedCrossing' }>, readings: readonly StoredReading[], now: number): Verdict {
  const intervalMs = condition.intervalSeconds * 1000;
  const { timestamps, values } = intervalMeans(readings, intervalMs);
  if (values.length < 10) return undefined;
  const horizon = Math.max(1, Math.ceil((condition.horizonHours * hour) / intervalMs));
  const forecast = forecastSeries(values, { horizon, holdout: 0 });
  const above = condition.above !== undefined;
  const limit = (above ? condition.above : condition.below)!;
  const crosses = (v: number) => (above ? v >= limit : v <= limit);
  const stepOf = (pick: (p: { mean: number; lower: number; upper: number }) => number) => forecast.points.find((p) => crosses(pick(p)))?.step;
  const meanStep = stepOf((p) => p.mean);
  if (meanStep === undefined) return { fire: false, summary: `the forecast of ${condition.sensorId} no longer reaches ${limit} within ${condition.horizonHours} h` };
  const last = timestamps[timestamps.length - 1];
  const at = (step: number) => last + step * intervalMs;
  const earliest = stepOf((p) => (above ? p.upper : p.lower)) ?? meanStep;
  const latest = stepOf((p) => (above ? p.lower : p.upper));
  const within = (step: number) => aboutDuration(Math.max(0, at(step) - now));
  return {
    fire: true,
    summary: `${condition.sensorId} will ${above ? 'pass' : 'fall below'} ${limit} in ${within(meanStep)} (${forecast.level * 100} % interval: from ${within(earliest)} to ${latest === undefined ? 'beyond the horizon' : within(latest)})`,
    facts: {
      sensorId: condition.sensorId,
      limit,
      direction: above ? 'above' : 'below',
      expectedAt: new Date(at(meanStep)).toISOString(),
      interval: { level: forecast.level, from: new Date(at(earliest)).toISOString(), to: latest === undefined ? null : new Date(at(latest)).toISOString() },
      model: forecast.model.kind,
    },
  };
}

/** The verdict of a time-based condition on the sensor's recent readings. */
export async function judge(condition: ScheduledCondition, readings: ReadingsRange, tenant: string, now: number): Promise<Verdict> {
  switch (condition.kind) {
    case 'sensorSilent': {
      const windowMs = condition.expectedIntervalSeconds * condition.factor * 1000;
      for await (const _reading of readings(tenant, condition.sensorId, now - windowMs, now)) return { fire: false, summary: `${condition.sensorId} sends readings again` };
      return { fire: true, summary: `${condition.sensorId} has sent no reading for over ${aboutDuration(windowMs)}`, facts: { sensorId: condition.sensorId, silentForSeconds: windowMs / 1000 } };
    }
    case 'readingLimit': {
      const recent = await collect(readings(tenant, condition.sensorId, now - condition.forMinutes * minute, now));
      if (recent.length === 0) return undefined;
      const above = condition.above !== undefined;
      const limit = (above ? condition.above : condition.below)!;
      const beyond = (r: StoredReading) => (above ? r.value > limit : r.value < limit);
      if (!recent.every(beyond)) return { fire: false, summary: `${condition.sensorId} is back ${above ? 'under' : 'over'} ${limit}` };
      const extreme = above ? Math.max(...recent.map((r) => r.value)) : Math.min(...recent.map((r) => r.value));
      return { fire: true, summary: `${condition.sensorId} has been ${above ? 'above' : 'below'} ${limit} for ${condition.forMinutes} minutes (${above ? 'highest' : 'lowest'} ${extreme})`, facts: { sensorId: condition.sensorId, limit, readings: recent.length, extreme } };
    }
    case 'predictedCrossing':
      return predictCrossing(condition, await collect(readings(tenant, condition.sensorId, now - condition.lookbackHours * hour, now)), now);
  }
}

/**
 * One tick of the schedule for one rule: judge its condition now, then fire (once per open alert)
 * or resolve. The tick's time is the occurrence: a retried tick claims the same alert.
 */
export async function evaluateScheduledRule(deps: FiringDeps & { readings: ReadingsRange }, tenant: string, rule: StoredRule & { condition: ScheduledCondition }, tickAt: string): Promise<Outcome> {
  if (!rule.enabled) return 'unchanged';
  const verdict = await judge(rule.condition, deps.readings, tenant, Date.parse(tickAt));
  if (!verdict) return 'unchanged';
  const subject = rule.condition.sensorId;
  if (!verdict.fire) return resolveAlert(deps.store, tenant, rule, subject, tickAt, verdict.summary);
  return fireAlert(deps, tenant, rule, { subject, occurrence: `tick:${tickAt}`, summary: verdict.summary, facts: verdict.facts, at: tickAt });
}
