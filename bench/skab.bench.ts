/**
 * How the multivariate defaults are chosen and what they score on data they were not chosen on.
 * The protocol (PROTOCOL below) was fixed and committed before any of its results were looked at:
 * candidates, the rule that picks one, and the data each figure comes from.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withFalseAlarmRate, type Calibrator } from '../shared/ml/calibration.js';
import { defaultDetectorOptions } from '../shared/ml/detectors.js';
import { fitDetector, scoreDetector, type DetectorOptions } from '../shared/ml/multivariate/detector.js';
import { sliceRows, type Matrix } from '../shared/ml/multivariate/matrix.js';
import { addConfusions, pointwiseMetrics, type Confusion } from '../shared/ml/metrics/pointwise.js';
import { FAULT_KINDS, faultSuite, readAnomalyFree, SCENARIO_KINDS, SETTLING_ROWS, TRAIN_ROWS, type ScenarioKind } from './fault-suite.js';
import { table, type BenchSection } from './harness.js';
import { readValve1, SKAB_ROOT, type SkabFile } from './skab-files.js';
import type { GlanceRow } from './summary.js';

/** Experiments of each scenario kind in each half of the suite (BENCH_SUITE_PER_KIND for a quick run). */
const PER_KIND = Number(process.env.BENCH_SUITE_PER_KIND ?? 4);
/** The rule's ceiling on pooled FAR, on the tuning half and on valve1 alike. */
const RULE_FAR = 0.1;

/** One experiment as the protocol scores it: rows, truth, and which rows count. */
interface Case {
  name: string;
  kind: ScenarioKind | 'valve1';
  features: Matrix;
  anomaly: Uint8Array;
  scored: Uint8Array;
  /** SKAB timestamps, for the skab_score.py cross-check. */
  times?: string[];
}

/** A valve1 experiment as the protocol scores it: fitted on its first rows, the rest scored. */
const valve1Case = (f: SkabFile): Case => ({
  name: `valve1/${f.name}`,
  kind: 'valve1',
  times: f.times,
  features: f.features,
  anomaly: f.anomaly,
  scored: new Uint8Array(f.features.rows).fill(1, TRAIN_ROWS),
});

/** A fitted setting; candidates differ from it only by the target false-alarm rate, which moves the threshold without a refit. */
interface Setting {
  name: string;
  options: Omit<DetectorOptions, 'targetFalseAlarmRate'>;
}

const DRIFT_ROBUST = { inputWindow: 30, scoreWindow: 30, slowFeatures: { maxRoughness: 0.5, lag: 60 } } as const;
const DRIFT_ROBUST_WIDE = { ...DRIFT_ROBUST, slowFeatures: { maxRoughness: 0.8, lag: 60 } } as const;
const OUT_OF_BLOCK_GPD = { calibrationFolds: 5, tail: 'gpd' } as const;
const SETTINGS: Setting[] = [
  { name: 'PCA, plain', options: { detector: 'pca' } },
  { name: 'PCA, plain, out-of-block GPD', options: { detector: 'pca', ...OUT_OF_BLOCK_GPD } },
  { name: 'PCA, drift-robust', options: { detector: 'pca', ...DRIFT_ROBUST } },
  { name: 'PCA, drift-robust, out-of-block GPD', options: { detector: 'pca', ...DRIFT_ROBUST, ...OUT_OF_BLOCK_GPD } },
  { name: 'MSET, plain', options: { detector: 'mset' } },
  { name: 'MSET, plain, out-of-block GPD', options: { detector: 'mset', ...OUT_OF_BLOCK_GPD } },
  { name: 'MSET, drift-robust', options: { detector: 'mset', ...DRIFT_ROBUST } },
  { name: 'MSET, drift-robust, out-of-block GPD', options: { detector: 'mset', ...DRIFT_ROBUST, ...OUT_OF_BLOCK_GPD } },
  { name: 'PCA, drift-robust wide (roughness < 0.8), out-of-block GPD', options: { detector: 'pca', ...DRIFT_ROBUST_WIDE, ...OUT_OF_BLOCK_GPD } },
  { name: 'MSET, drift-robust wide (roughness < 0.8), out-of-block GPD', options: { detector: 'mset', ...DRIFT_ROBUST_WIDE, ...OUT_OF_BLOCK_GPD } },
  { name: 'Isolation forest, drift-robust', options: { detector: 'iforest', ...DRIFT_ROBUST } },
  { name: 'Isolation forest, drift-robust, out-of-block GPD', options: { detector: 'iforest', ...DRIFT_ROBUST, ...OUT_OF_BLOCK_GPD } },
  { name: 'Autoencoder, drift-robust', options: { detector: 'autoencoder', ...DRIFT_ROBUST } },
  { name: 'Autoencoder, drift-robust, out-of-block GPD', options: { detector: 'autoencoder', ...DRIFT_ROBUST, ...OUT_OF_BLOCK_GPD } },
];
/** 0.00316 is what sensitivity 50, the old default, meant. */
const RATES = [0.01, 0.00316, 0.001, 0.0001];

interface Candidate {
  name: string;
  options: DetectorOptions;
  /** Per-case confusion over the case's scored rows, in the order of the cases. */
  perCase: Confusion[];
}

export const PROTOCOL = `**Protocol** (fixed and committed before any result below was looked at).

- *Data.* (1) SKAB valve1, 16 files, each fitted on its first ${TRAIN_ROWS} rows and scored on the rest (SKAB's protocol). (2) A fault-injection suite (\`bench/fault-suite.ts\`, unit-tested) built from SKAB's \`anomaly-free.csv\` (normal operation of the same test bed): experiments of ${TRAIN_ROWS} normal rows to fit on and 700 test rows, with one event starting 100–200 rows into the test part. Faults (labelled anomalous over their whole window, 300–450 rows, onset ramp of 10–60 rows included): leak (pressure down, flow up), rotor imbalance (both vibration RMS up, beating), cavitation (vibration bursts, noisier and lower pressure), slow drift of one sensor, a stuck sensor, isolated spikes (only spiking rows anomalous), variance change of one sensor; magnitudes 3–8 training standard deviations. Non-faults, labelled normal: a set-point change (flow, current and pressure move together by 1–2.5 sd, kept to the end) and a regime change (the rest of the experiment from another stretch of normal operation). After a non-fault change the next ${SETTLING_ROWS} rows (the settling window) are left out of the metrics; after it every alarm is a false alarm. ${PER_KIND} experiments of each of the ${SCENARIO_KINDS.length} kinds per half. The **tuning half** cuts its experiments from the first half of anomaly-free.csv with seeds 1…; the **held-out half** from the second half of the file with seeds 100001…, so it brings both unseen faults and an unseen stretch of normal operation.
- *Metrics.* Point-wise confusion pooled over the scored rows of all experiments of a set (SKAB's): F1 = TP / (TP + (FP + FN) / 2), FAR = FP / (FP + TN), MAR = FN / (FN + TP). FAR stands next to every F1.
- *Candidates.* Every setting below crossed with target false-alarm rates ${RATES.join(', ')}: ${SETTINGS.map((s) => s.name).join('; ')}. Plain = no windows; drift-robust = 30-row causal trailing means of inputs and score, and smooth features (von Neumann roughness < 0.5; < 0.8 for "wide") entering as their change over 60 rows; out-of-block GPD = threshold calibrated on 5-fold out-of-block training scores with a generalized Pareto tail (otherwise in-sample scores, exponential tail; MSET always calibrates on 5-fold out-of-block scores).
- *Rule.* A candidate qualifies when its pooled FAR is at most ${100 * RULE_FAR} % on the tuning half and at most ${100 * RULE_FAR} % on the valve1 files it may see; among qualifiers the one with the highest mean of the two pooled F1s wins (ties: the earlier in the list). If none qualifies, the one with the lowest larger-of-the-two FARs wins. The default is the rule applied to the tuning half and all 16 valve1 files.
- *Product default, decided after the results above were seen (so it is disclosed here).* The rule picks the autoencoder. The product default is the rule applied within the PCA family instead, for cost: with 5-fold calibration the autoencoder fits six times per request (seconds, where PCA takes milliseconds), \`POST /ml/detect\` must refuse it over 15,625 training rows of 8 features, and it cannot reach the batch-scoring speed aim (default detector >= 10x scikit-learn's rows/s). On the held-out half the two are 0.007 F1 apart; on the tuning half the autoencoder is ahead (see the table). The at-a-glance rows report the product default: its held-out half, and valve1 leave-one-out with the rule restricted to PCA.
- *Estimates that never score on what was tuned on.* The held-out half, scored once with every candidate (the rule never sees it). Valve1 leave-one-experiment-out: for each valve1 file, the rule is applied to the tuning half and the 15 other files, and the file is scored with the candidate it picks; the 16 files' confusions are pooled.
- *Aim.* On held-out data with the defaults: F1 >= 0.80 at FAR <= 13 %.
- *Cross-check.* The default as a user runs it, \`telltale detect --input valve1/N.csv --output O --train-rows 400\` (no other option), scored by \`../shared/tools/skab_score.py\`.`;

function fitAndScore(c: Case, options: DetectorOptions): { raw: Float64Array; calibration: Calibrator } {
  const detector = fitDetector(sliceRows(c.features, 0, TRAIN_ROWS), options);
  return { raw: scoreDetector(detector, c.features).raw, calibration: detector.calibration };
}

function confusionAt(c: Case, raw: Float64Array, threshold: number): Confusion {
  const out = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < raw.length; i++) {
    if (!c.scored[i]) continue;
    const key = c.anomaly[i] ? (raw[i] >= threshold ? 'tp' : 'fn') : raw[i] >= threshold ? 'fp' : 'tn';
    out[key]++;
  }
  return out;
}

/** Every candidate's confusion on every case: one fit per setting and case, the rates only move the threshold. */
function evaluate(cases: readonly Case[]): Candidate[] {
  const candidates: Candidate[] = [];
  for (const setting of SETTINGS) {
    const fits = cases.map((c) => fitAndScore(c, setting.options));
    for (const rate of RATES) {
      candidates.push({
        name: `${setting.name}, rate ${rate}`,
        options: { ...setting.options, targetFalseAlarmRate: rate },
        perCase: fits.map((f, i) => confusionAt(cases[i], f.raw, withFalseAlarmRate(f.calibration, rate).rawThreshold)),
      });
    }
  }
  return candidates;
}

const pooled = (c: Candidate, pick: readonly number[]) => pointwiseMetrics(addConfusions(pick.map((i) => c.perCase[i])));


/** The rule of the protocol over the given case indices (tuning half, valve1 files). */
function choose(candidates: readonly Candidate[], tuning: readonly number[], valve1: readonly number[]): Candidate {
  const judged = candidates.map((c) => ({ c, t: pooled(c, tuning), v: pooled(c, valve1) }));
  const qualified = judged.filter((j) => j.t.far <= RULE_FAR && j.v.far <= RULE_FAR);
  if (qualified.length > 0) return qualified.reduce((best, j) => ((j.t.f1 + j.v.f1) / 2 > (best.t.f1 + best.v.f1) / 2 ? j : best)).c;
  return judged.reduce((best, j) => (Math.max(j.t.far, j.v.far) < Math.max(best.t.far, best.v.far) ? j : best)).c;
}

const pct = (x: number) => (100 * x).toFixed(1);
const triple = (m: ReturnType<typeof pointwiseMetrics>) => `${m.f1.toFixed(3)} / ${pct(m.far)} / ${pct(m.mar)}`;

/** The default as a user runs it: the CLI with no option but --train-rows 400, scored by skab_score.py. */
function cliCrossCheck(files: readonly string[], cases: readonly Case[]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skab-pred-'));
  try {
    mkdirSync(path.join(dir, 'valve1'));
    files.forEach((file, k) => {
      const out = path.join(dir, 'out.csv');
      execFileSync(process.execPath, [path.resolve(import.meta.dirname, '../bin/telltale.js'), 'detect', '--input', file, '--output', out, '--train-rows', String(TRAIN_ROWS)], { stdio: 'pipe' });
      const labels = readFileSync(out, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[2]);
      const times = cases[k].times ?? [];
      writeFileSync(path.join(dir, 'valve1', path.basename(file)), ['datetime;anomaly', ...times.map((t, i) => `${t};${labels[i]}`)].join('\n'));
    });
    const json = path.join(dir, 'out.json');
    execFileSync('python3', [path.resolve(SKAB_ROOT, '../../tools/skab_score.py'), '--skab', SKAB_ROOT, '--groups', 'valve1', '--json', json, dir], { stdio: 'pipe' });
    const { outlier: o } = (JSON.parse(readFileSync(json, 'utf8')) as Record<string, { outlier: { F1: number; FAR_pct: number; MAR_pct: number } }>)[dir];
    return `F1 ${o.F1.toFixed(3)}, FAR ${o.FAR_pct.toFixed(1)} %, MAR ${o.MAR_pct.toFixed(1)} %`;
  } catch (error) {
    return `not run (${(error as Error).message.split('\n')[0]})`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const sameOptions = (a: DetectorOptions, b: Partial<DetectorOptions>) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

export default async function skabBench(): Promise<BenchSection> {
  const started = performance.now();
  const base = readAnomalyFree();
  const skab = readValve1();
  const files = skab.map((f) => f.file);
  const valve1 = skab.map(valve1Case);
  const tuningCases: Case[] = faultSuite(base, 'tuning', PER_KIND);
  const heldCases: Case[] = faultSuite(base, 'heldout', PER_KIND);
  const cases = [...tuningCases, ...valve1, ...heldCases];
  const tuning = tuningCases.map((_, i) => i);
  const valve = valve1.map((_, i) => tuningCases.length + i);
  const held = heldCases.map((_, i) => tuningCases.length + valve1.length + i);
  const candidates = evaluate(cases);
  const seconds = (performance.now() - started) / 1000;

  // The rule over every candidate, and the rule within the product default's family (see the protocol).
  const estimate = (pool: readonly Candidate[]) => {
    const pick = choose(pool, tuning, valve);
    const loo = valve.map((v) => choose(pool, tuning, valve.filter((u) => u !== v)));
    const picks = new Map<string, number>();
    for (const c of loo) picks.set(c.name, (picks.get(c.name) ?? 0) + 1);
    return { pick, held: pooled(pick, held), loo: pointwiseMetrics(addConfusions(loo.map((c, k) => c.perCase[valve[k]]))), picks };
  };
  const rule = estimate(candidates);
  const product = estimate(candidates.filter((c) => c.options.detector === defaultDetectorOptions.detector));
  const matches = sameOptions(product.pick.options, defaultDetectorOptions);

  const rows = candidates.map((c) => [c === rule.pick || c === product.pick ? `**${c.name}**` : c.name, triple(pooled(c, tuning)), triple(pooled(c, valve)), triple(pooled(c, held))]);
  const byKind = [...SCENARIO_KINDS].map((kind) => {
    const idx = held.filter((i) => cases[i].kind === kind);
    const m = pooled(product.pick, idx);
    const isFault = (FAULT_KINDS as readonly string[]).includes(kind);
    return [kind, isFault ? m.f1.toFixed(3) : '-', pct(m.far), isFault ? pct(m.mar) : '-'];
  });
  const cli = cliCrossCheck(files, valve1);
  const againstAim = (m: ReturnType<typeof pointwiseMetrics>) => `F1 ${m.f1.toFixed(3)}, FAR ${pct(m.far)} %${m.f1 >= 0.8 && m.far <= 0.13 ? '' : ': **short**'}`;
  const glance: GlanceRow[] = [
    { measure: 'Detection defaults, fault-injection suite held-out half (F1 / FAR)', aim: 'F1 >= 0.80 at FAR <= 13 %', measured: againstAim(product.held) },
    { measure: 'Detection defaults, SKAB valve1 leave-one-experiment-out (F1 / FAR)', aim: 'F1 >= 0.80 at FAR <= 13 %', measured: againstAim(product.loo) },
  ];
  const picksOf = (e: ReturnType<typeof estimate>) => [...e.picks].map(([k, v]) => `${k} (${v})`).join('; ');
  const markdown = [
    PROTOCOL,
    '',
    `**The rule's pick:** ${rule.pick.name}. **The product default** (\`defaultDetectorOptions\` in shared/ml/detectors.ts): the rule within the ${defaultDetectorOptions.detector} family, ${product.pick.name}${matches ? '' : `; **the declared default differs from it:** \`${JSON.stringify(defaultDetectorOptions)}\``}.`,
    '',
    table(['estimate (never scored on what it was chosen on)', 'F1', 'FAR %', 'MAR %'], [
      [`product default, held-out half of the suite (${held.length} experiments)`, product.held.f1.toFixed(3), pct(product.held.far), pct(product.held.mar)],
      ['product default, valve1 leave-one-experiment-out (16 files; the rule within its family)', product.loo.f1.toFixed(3), pct(product.loo.far), pct(product.loo.mar)],
      [`the rule's pick, held-out half`, rule.held.f1.toFixed(3), pct(rule.held.far), pct(rule.held.mar)],
      [`the rule's pick, valve1 leave-one-experiment-out`, rule.loo.f1.toFixed(3), pct(rule.loo.far), pct(rule.loo.mar)],
    ]),
    '',
    `Leave-one-out picks: within the product family ${picksOf(product)}; over every candidate ${picksOf(rule)}.`,
    '',
    `The default as a user runs it on valve1 (\`telltale detect --input F --output O --train-rows 400\`, scored by skab_score.py): ${cli}. This is valve1 with the default chosen on it (the rule saw all 16 files), so it is not an estimate for unseen data; the two rows above are.`,
    '',
    'The product default on the held-out half, by scenario kind (F1 / FAR % / MAR %; non-faults have no anomalous rows):',
    '',
    table(['kind', 'F1', 'FAR %', 'MAR %'], byKind),
    '',
    `Every candidate (F1 / FAR % / MAR %). The rule reads the first two columns only; the held-out column is reported, never used. In bold: the rule's pick and the product default. Fitting and scoring all ${cases.length} experiments with every setting took ${seconds.toFixed(0)} s.`,
    '',
    table(['candidate', `tuning half (${tuning.length})`, 'valve1 (16)', `held-out half (${held.length})`], rows),
  ].join('\n');
  return { title: 'Detection defaults: chosen on a tuning set, measured on held-out data (SKAB valve1 and a fault-injection suite)', glance, markdown };
}
