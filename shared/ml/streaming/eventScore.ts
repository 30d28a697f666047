/**
 * Event-window score in the spirit of the Numenta Anomaly Benchmark (NAB, standard profile): each labelled window
 * earns up to 1 for its first alarm, more the earlier it comes (scaled sigmoid of the position in the window), -1 when
 * missed; each alarm onset outside every window costs `falseAlarmWeight`. Alarms are counted by onset (a run of
 * consecutive labelled points is one alarm), as an operator sees them.
 */
export interface EventWindow {
  /** First point of the window (the anomaly's onset). */
  start: number;
  /** One past the last point. */
  end: number;
  kind?: string;
}

export interface EventScoreOptions {
  /** Cost of one false alarm onset (NAB standard profile: 0.11). */
  falseAlarmWeight?: number;
  /** Cost of a missed window (NAB: 1). */
  missWeight?: number;
}

export interface WindowOutcome extends EventWindow {
  detectedAt: number | null;
  /** Points from the window start to the first alarm. */
  delay: number | null;
  reward: number;
}

export interface EventScoreTotals {
  /** Sum of rewards and penalties. */
  raw: number;
  /** raw of a perfect detector (every window at its first point, no false alarm). */
  perfect: number;
  /** raw of a detector that never alarms. */
  silent: number;
  windows: number;
  detected: number;
  falseAlarms: number;
  falseAlarmPoints: number;
  points: number;
}

export interface EventScoreResult extends EventScoreTotals {
  /** 100 x (raw - silent) / (perfect - silent): 100 is perfect, 0 is no better than never alarming, negative is worse. */
  score: number;
  outcomes: WindowOutcome[];
}

/** NAB's scaled sigmoid: about 1 at the window's start, 0 at its end. */
function earlyReward(offset: number, length: number): number {
  const y = length <= 1 ? -1 : offset / (length - 1) - 1;
  return 2 / (1 + Math.exp(5 * y)) - 1;
}

export function scoreEvents(labels: ArrayLike<boolean>, windows: readonly EventWindow[], options: EventScoreOptions = {}): EventScoreResult {
  const fpWeight = options.falseAlarmWeight ?? 0.11;
  const missWeight = options.missWeight ?? 1;
  const inWindow = new Int32Array(labels.length).fill(-1);
  windows.forEach((w, i) => {
    for (let t = Math.max(0, w.start); t < Math.min(labels.length, w.end); t++) inWindow[t] = i;
  });
  const firstAlarm = new Array<number | null>(windows.length).fill(null);
  let falseAlarms = 0;
  let falseAlarmPoints = 0;
  for (let t = 0; t < labels.length; t++) {
    if (!labels[t]) continue;
    const w = inWindow[t];
    const onset = t === 0 || !labels[t - 1];
    if (w >= 0) {
      if (firstAlarm[w] === null) firstAlarm[w] = t;
    } else {
      falseAlarmPoints++;
      if (onset) falseAlarms++;
    }
  }
  const outcomes = windows.map((w, i): WindowOutcome => {
    const at = firstAlarm[i];
    const reward = at === null ? -missWeight : earlyReward(at - w.start, w.end - w.start);
    return { ...w, detectedAt: at, delay: at === null ? null : at - w.start, reward };
  });
  const totals: EventScoreTotals = {
    raw: outcomes.reduce((s, o) => s + o.reward, 0) - fpWeight * falseAlarms,
    perfect: windows.reduce((s, w) => s + earlyReward(0, w.end - w.start), 0),
    silent: -missWeight * windows.length,
    windows: windows.length,
    detected: outcomes.filter((o) => o.detectedAt !== null).length,
    falseAlarms,
    falseAlarmPoints,
    points: labels.length,
  };
  return { ...totals, score: normalisedEventScore(totals), outcomes };
}

/** Pools the totals of several series into one, for a suite score. */
export function poolEventScores(results: readonly EventScoreTotals[]): EventScoreTotals & { score: number } {
  const keys = ['raw', 'perfect', 'silent', 'windows', 'detected', 'falseAlarms', 'falseAlarmPoints', 'points'] as const;
  const pooled = Object.fromEntries(keys.map((k) => [k, results.reduce((s, r) => s + r[k], 0)])) as unknown as EventScoreTotals;
  return { ...pooled, score: normalisedEventScore(pooled) };
}

function normalisedEventScore(t: EventScoreTotals): number {
  return t.perfect === t.silent ? 0 : (100 * (t.raw - t.silent)) / (t.perfect - t.silent);
}
