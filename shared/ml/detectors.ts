/**
 * The detectors' public names, the same in the API, the CLI and the model records, declared once.
 * The multivariate library calls the isolation forest `iforest` inside; users see `isolation_forest`.
 */
import { z } from 'zod';
import type { DetectorKind, DetectorOptions } from './multivariate/detector.js';

export const univariateDetectors = ['streaming'] as const;
export const multivariateDetectors = ['pca', 'isolation_forest', 'autoencoder', 'mset'] as const;
export const detectorNames = [...univariateDetectors, ...multivariateDetectors] as const;
export type DetectorName = (typeof detectorNames)[number];
export type MultivariateDetectorName = (typeof multivariateDetectors)[number];

/** The multivariate library's kind of each public name. */
export const multivariateKinds: Record<MultivariateDetectorName, DetectorKind> = { pca: 'pca', isolation_forest: 'iforest', autoencoder: 'autoencoder', mset: 'mset' };

/** Older names, accepted for one more release and answered with the current name. */
export const deprecatedDetectorNames: Readonly<Record<string, MultivariateDetectorName>> = { iforest: 'isolation_forest' };

export const DETECTOR_ALIAS_NOTE = '`iforest` is a deprecated alias of `isolation_forest`, accepted until the next release';

/** The current name of a detector named by a request, a stored record or an older client. */
export function canonicalDetectorName<T extends string>(name: T | keyof typeof deprecatedDetectorNames): T {
  return (deprecatedDetectorNames[name] ?? name) as T;
}

/** One of `names`, or a deprecated alias of one of them, parsed into the current name. */
export function detectorNameSchema<const T extends readonly [string, ...string[]]>(names: T) {
  const aliases = Object.keys(deprecatedDetectorNames).filter((alias) => names.includes(deprecatedDetectorNames[alias]));
  return z.enum([...names, ...aliases] as [string, ...string[]]).transform((name) => canonicalDetectorName<T[number]>(name));
}

/**
 * What a user who names no detector and no option gets, from the CLI, POST /ml/detect and POST
 * /ml/train alike: the rule of the detection benchmark (bench/skab.bench.ts) applied within the PCA
 * family, on data it is then not measured on. Over every family the rule picks the autoencoder, 0.007
 * F1 ahead on the held-out half but fitted six times per request (see the benchmark's protocol). The one place the default is declared.
 */
export const defaultDetectorOptions = {
  detector: 'pca',
  inputWindow: 30,
  scoreWindow: 30,
  slowFeatures: { maxRoughness: 0.5, lag: 60 },
  calibrationFolds: 5,
  tail: 'gpd',
  targetFalseAlarmRate: 0.0001,
} as const satisfies DetectorOptions;

/** The defaults in words, for the CLI's usage text and the API's contract descriptions. */
export const DEFAULTS_NOTE = describeOptions(defaultDetectorOptions);

/** Detector options in words: the ones a default may set. */
export function describeOptions(o: DetectorOptions): string {
  const slow = o.slowFeatures === true ? {} : o.slowFeatures || undefined;
  const folds = o.calibrationFolds ?? (o.detector === 'mset' ? 5 : 1);
  return [
    `${publicDetectorName(o.detector)}`,
    (o.inputWindow ?? 1) > 1 || (o.scoreWindow ?? 1) > 1 ? `${o.inputWindow ?? 1}-row input and ${o.scoreWindow ?? 1}-row score windows` : 'no windows',
    ...(slow ? [`smooth features (roughness < ${slow.maxRoughness ?? 0.5}) as their change over ${slow.lag ?? 60} rows`] : []),
    `threshold calibrated on ${folds > 1 ? `${folds}-fold out-of-block` : 'in-sample'} training scores with ${o.tail === 'gpd' ? 'a generalized Pareto' : 'an exponential'} tail`,
    ...(o.targetFalseAlarmRate !== undefined ? [`target false-alarm rate ${+(100 * o.targetFalseAlarmRate).toPrecision(3)} %`] : []),
  ].join(', ');
}

/** The public name of the default detector. */
export const defaultDetectorName = publicDetectorName(defaultDetectorOptions.detector);

/** The public name of a multivariate library kind (`iforest` is `isolation_forest`). */
export function publicDetectorName(kind: DetectorKind): MultivariateDetectorName {
  return multivariateDetectors.find((name) => multivariateKinds[name] === kind)!;
}

/**
 * The options a request resolves to: with no detector named, the defaults (the caller's own options
 * over them); a named detector gets that family with only the options given, as it always did.
 */
export function resolveDetectorOptions(detector: DetectorKind | undefined, given: Partial<DetectorOptions>): DetectorOptions {
  return detector === undefined ? withDefaultOptions(given) : { ...given, detector };
}

/**
 * A caller's options over the defaults: every option the caller set wins, the rest are the
 * defaults'. A sensitivity (or a target rate) the caller gives replaces the default target rate.
 */
export function withDefaultOptions(given: Partial<DetectorOptions>): DetectorOptions {
  const set = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as Partial<DetectorOptions>;
  const { targetFalseAlarmRate, ...rest } = defaultDetectorOptions;
  return { ...rest, ...(set.sensitivity === undefined ? { targetFalseAlarmRate } : {}), ...set };
}
