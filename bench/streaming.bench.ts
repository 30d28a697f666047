/**
 * Streaming univariate detector: the raw score column under the window protocol (one threshold swept over a whole
 * corpus) on the held-out half of a generated operations-like corpus and on SKAB's columns as univariate streams;
 * label quality on the seeded suite (event-window score, recall per kind, false alarms per 10,000 points);
 * throughput on one core and the per-sensor state size.
 */
import path from 'node:path';
import type { BenchSection } from './harness.js';
import { table } from './harness.js';
import { readSkabCsv, readValve1, SKAB_ROOT, type SkabFile } from './skab-files.js';
import { labelledWindows } from '../shared/ml/metrics/event-window.js';
import { sweepCorpus, type SweepResult } from '../shared/ml/metrics/window-sweep.js';
import { generateCorpus } from '../shared/ml/streaming/corpus.js';
import { StreamingDetector } from '../shared/ml/streaming/detector.js';
import { poolEventScores, scoreEvents, type EventScoreResult } from '../shared/ml/streaming/eventScore.js';
import { generateSuite, injectedKinds, type LabelledSeries } from '../shared/ml/streaming/synthetic.js';

/** Seeds 0..39 of the generated corpus: even seeds tuned the score's settings, odd seeds are held out for the report. */
const SEEDS = Array.from({ length: 40 }, (_, i) => i);
const TUNING = SEEDS.filter((s) => s % 2 === 0);
const HELD_OUT = SEEDS.filter((s) => s % 2 === 1);

export interface ProtocolStream {
  name: string;
  kind: string;
  values: ArrayLike<number>;
  windows: [number, number][];
}

/** Each SKAB sensor column of anomaly-free.csv and of the valve1 experiments as one stream; windows from the anomaly column. */
export function skabStreams(): ProtocolStream[] {
  const files: SkabFile[] = [readSkabCsv(path.join(SKAB_ROOT, 'anomaly-free/anomaly-free.csv')), ...readValve1()];
  return files.flatMap((file) => {
    const windows = labelledWindows(file.anomaly);
    const { rows, cols, data } = file.features;
    return file.featureNames.map((feature, c) => ({
      name: `${file.name}:${feature}`,
      kind: `skab ${feature}`,
      values: Float64Array.from({ length: rows }, (_, r) => data[r * cols + c]),
      windows,
    }));
  });
}

/** A fresh default detector per stream (the CLI's `--detector streaming --mode streaming`), one threshold swept over all scores. */
export function protocolScore(streams: readonly ProtocolStream[]): SweepResult {
  return sweepCorpus(
    streams.map((s) => {
      const detector = new StreamingDetector();
      const scores = new Float64Array(s.values.length);
      for (let i = 0; i < s.values.length; i++) scores[i] = detector.update(s.values[i]).score;
      return { name: s.name, scores, windows: s.windows };
    }),
  );
}

/** Per kind at the corpus' threshold: windows, detected, false positives, raw protocol score. */
function perKind(streams: readonly ProtocolStream[], result: SweepResult): (string | number)[][] {
  const kinds = [...new Set(streams.map((s) => s.kind))];
  return kinds.map((kind) => {
    const of = result.streams.filter((_, i) => streams[i].kind === kind);
    const sum = (k: 'raw' | 'windows' | 'detected' | 'falsePositives') => of.reduce((a, s) => a + s[k], 0);
    const points = streams.filter((s) => s.kind === kind).reduce((a, s) => a + s.values.length, 0);
    return [kind, of.length, sum('windows'), sum('detected'), sum('falsePositives'), ((sum('falsePositives') / points) * 1e4).toFixed(1), sum('raw').toFixed(2)];
  });
}

const protocolRow = (what: string, streams: readonly ProtocolStream[], r: SweepResult): (string | number)[] => [
  what,
  streams.length,
  streams.reduce((a, s) => a + s.values.length, 0).toLocaleString('en-US'),
  r.score.toFixed(1),
  r.threshold.toFixed(3),
  `${r.detected} / ${r.windows}`,
  r.falsePositives,
];

function labelQuality(suite: readonly LabelledSeries[], sensitivity: number): { results: EventScoreResult[]; stateBytes: number[] } {
  const results: EventScoreResult[] = [];
  const stateBytes: number[] = [];
  for (const series of suite) {
    const detector = new StreamingDetector({ sensitivity });
    const labels = series.values.map((v) => detector.update(v).label);
    results.push(scoreEvents(labels, series.windows));
    stateBytes.push(JSON.stringify(detector.serialize()).length);
  }
  return { results, stateBytes };
}

function throughput(suite: readonly LabelledSeries[]): number {
  let best = 0;
  for (let rep = 0; rep < 5; rep++) {
    let points = 0;
    const started = process.hrtime.bigint();
    for (const series of suite) {
      const detector = new StreamingDetector();
      for (const v of series.values) detector.update(v);
      points += series.values.length;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    best = Math.max(best, points / seconds);
  }
  return best;
}

const pct = (x: number): string => `${(100 * x).toFixed(0)} %`;
const protocolHeader = ['corpus', 'streams', 'points', 'window score (0 null, 100 perfect)', 'swept threshold', 'windows detected', 'false positives (points)'];

export default async (): Promise<BenchSection> => {
  const tuning = generateCorpus(TUNING);
  const heldOut = generateCorpus(HELD_OUT);
  const skab = skabStreams();
  const tuned = protocolScore(tuning);
  const held = protocolScore(heldOut);
  const onSkab = protocolScore(skab);

  const suite = generateSuite(4, 4000);
  const totalPoints = suite.reduce((s, x) => s + x.values.length, 0);
  const overall: (string | number)[][] = [];
  let atDefault: ReturnType<typeof labelQuality> | null = null;
  for (const sensitivity of [25, 50, 75]) {
    const q = labelQuality(suite, sensitivity);
    if (sensitivity === 50) atDefault = q;
    const pooled = poolEventScores(q.results);
    const clean = poolEventScores(q.results.filter((_, i) => suite[i].kind === 'none'));
    overall.push([sensitivity, pooled.score.toFixed(1), pct(pooled.detected / pooled.windows), ((pooled.falseAlarms / pooled.points) * 1e4).toFixed(2), ((clean.falseAlarms / clean.points) * 1e4).toFixed(2)]);
  }
  const q = atDefault as ReturnType<typeof labelQuality>;
  const byKind = injectedKinds.map((kind) => {
    const idx = suite.map((s, i) => (s.kind === kind ? i : -1)).filter((i) => i >= 0);
    const pooled = poolEventScores(idx.map((i) => q.results[i]));
    const delays = idx.flatMap((i) => q.results[i].outcomes.map((o) => o.delay)).filter((d): d is number => d !== null).sort((a, b) => a - b);
    return [kind, pooled.windows, pct(pooled.detected / pooled.windows), delays.length ? delays[Math.floor(delays.length / 2)] : '-', pooled.score.toFixed(1), ((pooled.falseAlarms / pooled.points) * 1e4).toFixed(1)];
  });
  const perBase = [...new Set(suite.map((s) => s.base))].map((base) => {
    const pooled = poolEventScores(q.results.filter((_, i) => suite[i].base === base));
    return [base, pct(pooled.detected / pooled.windows), pooled.score.toFixed(1), ((pooled.falseAlarms / pooled.points) * 1e4).toFixed(1)];
  });
  const pointsPerSecond = throughput(suite);
  const bytes = [...q.stateBytes].sort((a, b) => a - b);
  const medianBytes = bytes[Math.floor(bytes.length / 2)];

  const markdown = `
### The score column under the window protocol

The protocol of streaming anomaly benchmarks (NAB's scorer, standard profile; \`shared/ml/metrics/window-sweep.ts\`):
every point whose score reaches the threshold is a detection; inside a labelled window only the earliest counts,
rewarded by a scaled sigmoid of its position (0.99 at the window's first point, 0 at its last); a missed window costs
1; every detection outside windows costs 0.11 (less just after a window); the first 15 % of each stream (at most 750
points) is not scored; ONE threshold is swept over the raw score column of the whole corpus and the best total is
normalised so that the detector that raises nothing scores 0 and a perfect one 100. Each stream runs through a fresh
detector with default options (\`telltale detect --detector streaming --mode streaming\`: 400 warm-up points, scored 0).

Corpora. Generated (\`shared/ml/streaming/corpus.ts\`), 4,000 points a stream, six kinds per seed, 0 to 3 labelled
onsets each, windows of 10 % of the stream shared among its anomalies and centred on them (NAB's rule):
server metrics (CPU-like percent: daily and weekly load, bursty heavy-tailed noise, benign deploy steps and batch-job
bursts; anomalies are spikes, plateaus and drops), traffic counts (Poisson around a daily rate; outages and surges),
machine temperatures (slow wandering drift, benign set-point changes, 0.05 quantisation; a fast rise to failure or a
sudden drop), flat stretches (a metric at 0 or a fixed value with rare benign blips; sustained departures),
flat-then-moving (constant through the warm-up, then it starts moving: the start is the first anomaly) and one
series of the seeded suite below. SKAB: each of the 8 sensor columns of \`anomaly-free.csv\` (no windows: only false
positives count) and of the 16 valve1 experiments, windows from the anomaly column.

How the settings were fixed, written down before the held-out figures were looked at: the score's constants
(\`shared/ml/streaming/onset.ts\`: surprise memory, variance floor, range tolerance, hold decay) were chosen by the
protocol score on the tuning half (even seeds 0-38) alone, one at a time on small grids, keeping the best; the held-out
half (odd seeds 1-39) and SKAB are scored for the report only. The threshold at sensitivity 50 (0.25) is the tuning
half's swept threshold (0.26) rounded to 0.05. Said plainly: the held-out half was scored twice, once when the score's
settings were fixed (68.8) and again after a fix of the labels after a flat warm-up (the first departure sets the
scale), which was made for the labels' sake and checked on the tuning half only; SKAB's columns were also scored a few
times while the design was explored, before its final form, so they are not quite untouched.

${table(protocolHeader, [protocolRow('generated, tuning half (even seeds)', tuning, tuned), protocolRow('generated, held-out half (odd seeds)', heldOut, held), protocolRow('SKAB columns (anomaly-free + valve1)', skab, onSkab)])}

Before this change (the score was the alarm channels' -log10(p)/10, a flag held through episodes) the tuning half
scored 0.0: no threshold beat raising nothing, as the issue found on its held-out streams.

Held-out half, per kind, at the corpus' swept threshold:

${table(['kind', 'streams', 'windows', 'detected', 'false positives', 'per 10k points', 'raw protocol score'], perKind(heldOut, held))}

SKAB columns, per sensor, at their corpus' swept threshold (many columns do not react to a closed valve at all):

${table(['kind', 'streams', 'windows', 'detected', 'false positives', 'per 10k points', 'raw protocol score'], perKind(skab, onSkab))}

### Labels on the seeded suite

Suite: ${suite.length} seeded series of 4,000 points (${totalPoints.toLocaleString('en-US')} points): 6 base processes (white noise, two-harmonic season of 24/48/96, AR(1) 0.7, Student-t3 noise, quantised, season plus trend), each clean and with 2 anomalies of one kind (spike 6-10 sigma, level shift 4-8 sigma, trend change 0.05-0.1 sigma a step, noise x3-5 for 300 points, stuck for 20-60 points, seasonal break: phase jump of a third of a period and amplitude x0.5 or x1.5). Windows: spike 10, level shift 50, trend change 150, variance change 100, stuck its length + 10, seasonal break 2 periods. Default options (warm-up 400 points, which are not scored).

Labels (not the score) under an event-window score: NAB standard profile on alarm onsets (first alarm in a window earns up to 1, earlier is more; a missed window -1; each false alarm onset outside windows -0.11), normalised so 100 is perfect and 0 is a detector that never alarms. After a persistent change the window closes while the detector may still be re-learning, and those later alarms count as false.

${table(['sensitivity', 'event score', 'recall', 'false alarms / 10k (all)', 'false alarms / 10k (clean series)'], overall)}

At sensitivity 50, per anomaly kind:

${table(['kind', 'windows', 'recall', 'median delay (points)', 'event score', 'false alarms / 10k'], byKind)}

Per base process:

${table(['base', 'recall', 'event score', 'false alarms / 10k'], perBase)}

Speed and state:

${table(['measure', 'value', 'aim'], [
  ['throughput, one core (warm-up included, best of 5)', `${Math.round(pointsPerSecond).toLocaleString('en-US')} points/s`, '1,000,000 points/s'],
  ['state, JSON bytes per sensor (median / max)', `${medianBytes} / ${bytes[bytes.length - 1]}`, 'a few KB'],
])}

Shortfalls, stated plainly: the held-out half is our own generated corpus, not the issue's 58 real streams, and it
was built by the same hand that tuned the detector; the figure to trust is the issue author's re-measure. Slow ramps
(machine temperatures rising to failure) are the most missed: one-step residuals of a model that follows the ramp
barely move. Flat metrics with benign blips cost most false positives: every blip from a flat line is a large
surprise. On SKAB, columns that never react to the fault can only miss, and a threshold low enough for the ones that
do costs false positives on the rest.
`;
  const glance = [
    { measure: 'streaming score column, window protocol, generated held-out half (odd seeds)', aim: '≥ 70 (held-out real streams)', measured: `${held.score.toFixed(1)}${held.score >= 70 ? '' : ': **short**'} on our generated corpus, not the issue's real streams (SKAB columns ${onSkab.score.toFixed(1)}; was 0 before)` },
    { measure: 'streaming detector throughput, one core', aim: '1,000,000 points/s', measured: `${Math.round(pointsPerSecond).toLocaleString('en-US')} points/s${pointsPerSecond >= 1_000_000 ? '' : ': **short**'}` },
    { measure: 'streaming detector state per sensor, median JSON bytes', aim: 'a few KB', measured: `${medianBytes}` },
  ];
  return { title: 'Streaming univariate detector', glance, markdown };
};
