import { z } from 'zod';
import { scopes } from '../../gateway/scopes.js';
import { problemResponses } from '../../http/problemSchema.js';
import { defineRoute } from '../../http/route.js';
import { resourceId } from '../../platform/ids.js';
import { calibrationTails } from '../calibration.js';
import { DEFAULTS_NOTE, defaultDetectorName, defaultDetectorOptions, DETECTOR_ALIAS_NOTE, detectorNames, detectorNameSchema, multivariateDetectors, univariateDetectors } from '../detectors.js';
import { referenceSummarySchema } from '../drift/index.js';
import { anomalyKinds } from '../streaming/index.js';

/**
 * Inline data is bounded three ways so a huge request gets a 413 or 400 at once instead of a hung
 * function: the body size (Lambda's synchronous payload limit is 6 MB), the number of points, and
 * the cells of a matrix (what the detectors' fitting time grows with).
 */
export const ML_LIMITS = {
  bodyBytes: 6_000_000,
  points: 100_000,
  /** Forecasting fits several models by numerical optimisation; its cost grows faster than linearly. */
  forecastPoints: 20_000,
  features: 100,
  cells: 500_000,
  /** Autoencoder training is the slowest fit: its cost grows with training rows x features². */
  autoencoderTrainingWork: 1_000_000,
  /** Segments and change points listed in a response (counts are always exact). */
  listed: 1_000,
} as const;

export const timestamp = z
  .union([z.iso.datetime({ offset: true }), z.number().int().min(0).max(8.64e15)])
  .describe('ISO 8601 date-time, or epoch milliseconds; strictly increasing');

const featureName = z.string().min(1).max(128);

export const seriesPoint = z.strictObject({ timestamp, value: z.number() });

const series = (max: number) =>
  z.array(seriesPoint).min(1).max(max).describe(`Readings in time order, at most ${max.toLocaleString('en')}`);

const matrixWidthIssues = (features: readonly string[], rows: readonly (readonly number[])[], ctx: z.RefinementCtx, where: (string | number)[]) => {
  if (new Set(features).size !== features.length) ctx.addIssue({ code: 'custom', path: [...where, 'features'], message: 'Feature names must be unique' });
  let reported = 0;
  for (let r = 0; r < rows.length && reported < 10; r++) {
    if (rows[r].length !== features.length) {
      ctx.addIssue({ code: 'custom', path: [...where, 'rows', r], message: `Row has ${rows[r].length} values, ${features.length} features are named` });
      reported++;
    }
  }
  if (rows.length * features.length > ML_LIMITS.cells) {
    ctx.addIssue({ code: 'custom', path: [...where, 'rows'], message: `${rows.length} rows x ${features.length} features is more than ${ML_LIMITS.cells.toLocaleString('en')} values` });
  }
};

const rowsOf = z.array(z.array(z.number()).max(ML_LIMITS.features)).min(1).max(ML_LIMITS.points);
const featuresOf = z.array(featureName).min(1).max(ML_LIMITS.features);

/** Named features and rows of values, no time column (drift). */
export const featureTable = z
  .strictObject({ features: featuresOf.describe('Column names, in the order of each row'), rows: rowsOf.describe('One array of values per row') })
  .superRefine((t, ctx) => matrixWidthIssues(t.features, t.rows, ctx, []));

/** Timestamped rows of named features (multivariate detection). */
export const timedMatrix = z
  .strictObject({ timestamps: z.array(timestamp).min(1).max(ML_LIMITS.points), features: featuresOf, rows: rowsOf })
  .superRefine((m, ctx) => {
    if (m.timestamps.length !== m.rows.length) ctx.addIssue({ code: 'custom', path: ['timestamps'], message: `${m.timestamps.length} timestamps for ${m.rows.length} rows` });
    matrixWidthIssues(m.features, m.rows, ctx, []);
  });

// ---------------------------------------------------------------- detect

export const multivariateOptions = z.strictObject({
  inputWindow: z.number().int().min(1).max(1_000).optional().describe('Causal trailing mean of the inputs over this many rows (1 = off)'),
  scoreWindow: z.number().int().min(1).max(1_000).optional().describe('Causal trailing mean of the raw score over this many rows (1 = off)'),
  driftHorizon: z.number().int().min(0).max(100_000).optional().describe('Rows over which a training trend may continue before it counts as anomalous (0 = off)'),
  targetFalseAlarmRate: z.number().gt(0).max(0.5).optional().describe('Share of normal rows allowed to alarm; overrides sensitivity'),
  slowFeatures: z.boolean().optional().describe('Smooth, slowly drifting features enter as their recent change, so slow drift is not an alarm'),
  calibrationFolds: z.number().int().min(1).max(20).optional().describe('Calibrate the threshold on out-of-block training scores from this many folds (1 = in-sample; default 5 for mset, else 1)'),
  tail: z.enum(calibrationTails).optional().describe('Tail of the calibration beyond the training quantile: exponential (default) or gpd (generalized Pareto)'),
});

/** A READY dataset of the caller's, read from its processed file instead of inline data. */
export const datasetInput = z.strictObject({
  id: resourceId.describe('A READY dataset of yours'),
  features: featuresOf.optional().describe('Sensor columns to use, in order; default all of them. One feature makes a series'),
  limit: z
    .number()
    .int()
    .min(1)
    .max(ML_LIMITS.points)
    .optional()
    .describe(`Use only the first N usable rows; without it a dataset over ${ML_LIMITS.points.toLocaleString('en')} rows or ${ML_LIMITS.cells.toLocaleString('en')} values is refused`),
});
export type DatasetInput = z.infer<typeof datasetInput>;

export const detectRequest = z
  .strictObject({
    series: series(ML_LIMITS.points).optional().describe('A univariate series; give exactly one of series, matrix and dataset'),
    matrix: timedMatrix.optional().describe('Timestamped rows of named features; give exactly one of series, matrix and dataset'),
    dataset: datasetInput
      .optional()
      .describe('A stored dataset by id; give exactly one of series, matrix and dataset. One feature (or detector streaming) is a series, several a matrix'),
    mode: z.enum(['batch', 'streaming']).default('batch').describe('batch: whole series at once; streaming: each score uses only earlier points'),
    detector: detectorNameSchema(detectorNames)
      .optional()
      .describe(`streaming for a series (default); pca, isolation_forest, autoencoder or mset for a matrix, default ${defaultDetectorName}. A matrix detector takes the default options (${DEFAULTS_NOTE}) except those set in options. ${DETECTOR_ALIAS_NOTE}`),
    sensitivity: z
      .number()
      .min(0)
      .max(100)
      .optional()
      .describe(`0 (fewest alarms) to 100 (most); default 50 for a series, and for a matrix the default target false-alarm rate (${100 * defaultDetectorOptions.targetFalseAlarmRate} %)`),
    trainRows: z.number().int().min(16).max(ML_LIMITS.points).optional().describe('Fit on the first N points; default: all rows (matrix, batch) or min(400, half the points)'),
    period: z.number().int().min(1).max(5_000).optional().describe('Season length of a series in points (1 = none); default detected'),
    options: multivariateOptions.optional().describe('Matrix detectors only'),
  })
  .superRefine((b, ctx) => {
    if ([b.series, b.matrix, b.dataset].filter((input) => input !== undefined).length !== 1) {
      ctx.addIssue({ code: 'custom', path: [], message: 'Give exactly one of series, matrix and dataset' });
      return;
    }
    // A dataset's shape is known once it is read; the use case checks detector, period and options then.
    if (b.dataset) {
      if (b.dataset.features && new Set(b.dataset.features).size !== b.dataset.features.length) ctx.addIssue({ code: 'custom', path: ['dataset', 'features'], message: 'Feature names must be unique' });
      if (b.detector === 'streaming' && b.dataset.features && b.dataset.features.length !== 1) ctx.addIssue({ code: 'custom', path: ['dataset', 'features'], message: 'The streaming detector takes one feature' });
      if (b.trainRows !== undefined && b.dataset.limit !== undefined && b.trainRows > b.dataset.limit) ctx.addIssue({ code: 'custom', path: ['trainRows'], message: `Only ${b.dataset.limit} rows are read (dataset.limit)` });
      return;
    }
    const length = b.series?.length ?? b.matrix!.rows.length;
    const allowed: readonly string[] = b.series ? univariateDetectors : multivariateDetectors;
    if (b.detector && !allowed.includes(b.detector)) {
      ctx.addIssue({ code: 'custom', path: ['detector'], message: `${b.detector} does not take a ${b.series ? 'series' : 'matrix'}; use ${allowed.join(', ')}` });
    }
    if (b.trainRows !== undefined && b.trainRows > length) ctx.addIssue({ code: 'custom', path: ['trainRows'], message: `Only ${length} points were given` });
    if (b.series && b.trainRows !== undefined && b.trainRows > 20_000) ctx.addIssue({ code: 'custom', path: ['trainRows'], message: 'A series detector learns from at most 20000 points' });
    if (b.period !== undefined && !b.series) ctx.addIssue({ code: 'custom', path: ['period'], message: 'period applies to a series only' });
    if (b.options !== undefined && !b.matrix) ctx.addIssue({ code: 'custom', path: ['options'], message: 'options apply to a matrix only' });
  });
export type DetectRequest = z.infer<typeof detectRequest>;

const contribution = z.object({ feature: z.string(), share: z.number().describe('Mean share of the anomaly score, 0 to 1') });

export const anomalySegment = z.object({
  start: z.string().describe('Timestamp of the first labelled point'),
  end: z.string().describe('Timestamp of the last labelled point'),
  startIndex: z.number().int(),
  endIndex: z.number().int().describe('Inclusive'),
  peak: z.string().describe('Timestamp of the highest score'),
  peakIndex: z.number().int(),
  peakScore: z.number(),
  kind: z.enum(anomalyKinds).nullable().describe('Series only: what the peak looks like'),
  contributions: z.array(contribution).describe('Features that drove the segment, largest first (at most 10)'),
});
export type AnomalySegment = z.infer<typeof anomalySegment>;

export const changePointOut = z.object({
  feature: z.string(),
  index: z.number().int().describe('First point of the new segment'),
  timestamp: z.string(),
  before: z.number(),
  after: z.number(),
  magnitude: z.number(),
  magnitudeSigma: z.number(),
});
export type ChangePointOut = z.infer<typeof changePointOut>;

export const detectResponse = z.object({
  kind: z.enum(['univariate', 'multivariate']),
  detector: z.enum(detectorNames),
  mode: z.enum(['batch', 'streaming']),
  features: z.array(z.string()),
  trainRows: z.number().int().describe('Points the detector was fitted on (the first ones)'),
  scoredFrom: z.number().int().describe('Index of the first scored point: earlier ones are warm-up with score 0 (streaming mode)'),
  threshold: z.number().describe('Score at or above which a point is labelled (a series: at or above which the score marks an onset; its labels follow the alarm channels and last as long as the anomaly)'),
  period: z.number().int().optional().describe('Season length used (series only)'),
  points: z
    .object({
      scores: z.array(z.number()).describe('Anomaly score in [0, 1] per input point, in input order'),
      labels: z.array(z.boolean()),
      expected: z.array(z.number()).optional().describe('Series only: the expected value'),
      lower: z.array(z.number()).optional(),
      upper: z.array(z.number()).optional(),
    })
    .describe('Columns aligned with the input points'),
  segments: z.array(anomalySegment).describe(`Runs of consecutive labelled points, in time order (at most ${ML_LIMITS.listed})`),
  segmentCount: z.number().int(),
  changePoints: z.array(changePointOut).describe(`Level changes (per feature for a matrix; at most ${ML_LIMITS.listed})`),
  changePointCount: z.number().int(),
  dataset: z
    .object({
      id: z.string(),
      rows: z.number().int().describe('Rows scored: the points columns are aligned with them'),
      droppedRows: z.number().int().describe('Rows of the processed file left out because a chosen feature or the timestamp was missing'),
      from: z.string().describe('Timestamp of the first row scored'),
      to: z.string().describe('Timestamp of the last row scored'),
    })
    .optional()
    .describe('Dataset input only: which rows were read'),
});
export type DetectResponse = z.infer<typeof detectResponse>;

export const detectRoute = defineRoute({
  method: 'POST',
  path: '/api/v1/ml/detect',
  operationId: 'detectAnomalies',
  summary: 'Detect anomalies in an inline series or matrix, or in a stored dataset',
  tag: 'ml',
  scope: scopes.read,
  request: { body: detectRequest, maxBodyBytes: ML_LIMITS.bodyBytes },
  responses: { 200: { description: 'Scores, labels, segments and change points', schema: detectResponse }, ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422) },
});

// ---------------------------------------------------------------- forecast

export const forecastRequest = z.strictObject({
  series: series(ML_LIMITS.forecastPoints),
  horizon: z.number().int().min(1).max(10_000).describe('Steps to forecast'),
  period: z.number().int().min(1).max(5_000).optional().describe('Season length in points (1 = none); default detected'),
  model: z
    .enum(['auto', 'simple', 'holt', 'holt_winters', 'seasonal_naive'])
    .default('auto')
    .describe(
      'auto: the lowest AICc among simple, Holt, damped Holt and Holt-Winters (additive or multiplicative season; no, plain or damped trend) for each candidate period, replaced by seasonal_naive when that did better on a rolling-origin check',
    ),
  damped: z.boolean().optional().describe('Damp the trend (holt, holt_winters)'),
  seasonal: z.enum(['additive', 'multiplicative']).optional().describe('How the season combines with the level (holt_winters); default additive'),
  level: z.number().min(0.5).max(0.999).default(0.95).describe('Prediction interval coverage'),
  holdout: z.number().int().min(0).max(10_000).optional().describe('Points held out to measure accuracy; default min(horizon, n/4)'),
});
export type ForecastRequest = z.infer<typeof forecastRequest>;

export const forecastResponse = z.object({
  model: z.object({
    kind: z.enum(['simple', 'holt', 'holt_winters', 'seasonal_naive']),
    trend: z.enum(['none', 'additive', 'damped']),
    season: z.enum(['none', 'additive', 'multiplicative']),
    damped: z.boolean(),
    period: z.number().int(),
    alpha: z.number(),
    beta: z.number(),
    gamma: z.number(),
    phi: z.number(),
    sigma: z.number(),
    aic: z.number().nullable().describe('null for seasonal_naive, which is not fitted by likelihood'),
    aicc: z.number().nullable(),
  }),
  level: z.number(),
  points: z.array(z.object({ step: z.number().int(), timestamp: z.string(), mean: z.number(), lower: z.number(), upper: z.number() })),
  accuracy: z
    .object({
      holdout: z.number().int(),
      mae: z.number(),
      rmse: z.number(),
      mase: z.number().nullable(),
      naive: z.object({ mae: z.number(), rmse: z.number() }).describe('The naive seasonal forecast on the same hold-out'),
      coverage: z.number(),
      beatsNaive: z.boolean(),
    })
    .nullable(),
  selection: z
    .object({
      periods: z.array(z.number().int()).describe('Season lengths tried: from the timestamps\' calendar and the ACF of the series and of its differences'),
      candidates: z.array(
        z.object({
          kind: z.enum(['simple', 'holt', 'holt_winters']),
          trend: z.enum(['none', 'additive', 'damped']),
          season: z.enum(['none', 'additive', 'multiplicative']),
          period: z.number().int(),
          aicc: z.number(),
        }),
      ),
      floor: z
        .object({ origins: z.number().int(), window: z.number().int(), modelMae: z.number(), naiveMae: z.number(), usedNaive: z.boolean() })
        .nullable()
        .describe('auto: the chosen model against the naive seasonal forecast from rolling origins'),
    })
    .describe('How the model was chosen'),
});
export type ForecastResponse = z.infer<typeof forecastResponse>;

export const forecastRoute = defineRoute({
  method: 'POST',
  path: '/api/v1/ml/forecast',
  operationId: 'forecastSeries',
  summary: 'Forecast a series with prediction intervals',
  tag: 'ml',
  scope: scopes.read,
  request: { body: forecastRequest, maxBodyBytes: ML_LIMITS.bodyBytes },
  responses: { 200: { description: 'The forecast and its hold-out accuracy against the naive seasonal baseline', schema: forecastResponse }, ...problemResponses(400, 401, 403, 413, 415, 422) },
});

// ---------------------------------------------------------------- drift

export const driftRequest = z
  .strictObject({
    reference: featureTable.optional().describe('Reference rows (e.g. the training data); give this or referenceSummary'),
    referenceSummary: referenceSummarySchema.optional().describe('A stored reference summary, as training writes it'),
    current: featureTable.describe('Current rows; features are matched by name'),
  })
  .superRefine((b, ctx) => {
    if ((b.reference === undefined) === (b.referenceSummary === undefined)) ctx.addIssue({ code: 'custom', path: [], message: 'Give exactly one of reference and referenceSummary' });
  });
export type DriftRequest = z.infer<typeof driftRequest>;

const driftVerdict = z.enum(['none', 'moderate', 'significant']);
export const driftResponse = z.object({
  verdict: driftVerdict,
  driftedFeatures: z.array(z.string()),
  features: z.array(
    z.object({
      feature: z.string(),
      ks: z.object({ statistic: z.number(), pValue: z.number() }),
      psi: z.number(),
      verdict: driftVerdict,
      meanShiftSd: z.number(),
    }),
  ),
  currentRows: z.number().int(),
  thresholds: z.object({ psiModerate: z.number(), psiSignificant: z.number(), ksPValue: z.number() }),
});

export const driftRoute = defineRoute({
  method: 'POST',
  path: '/api/v1/ml/drift',
  operationId: 'detectDrift',
  summary: 'Drift of current data against a reference, per feature (KS, PSI)',
  tag: 'ml',
  scope: scopes.read,
  request: { body: driftRequest, maxBodyBytes: ML_LIMITS.bodyBytes },
  responses: { 200: { description: 'Verdict and per-feature tests', schema: driftResponse }, ...problemResponses(400, 401, 403, 413, 415, 422) },
});

// ---------------------------------------------------------------- evaluate

const binary = z.number().int().min(0).max(1);

/** Rows a model evaluation reads at most from a dataset's processed file. */
export const MAX_EVALUATION_ROWS = 200_000;
export const DEFAULT_EVALUATION_THRESHOLD = 0.5;

const inlineOnly = ['scores', 'predictions', 'threshold', 'windows'] as const;
const modelOnly = ['version', 'labelColumn', 'labelsFrom', 'fromRow', 'toRow'] as const;

export const evaluateRequest = z
  .strictObject({
    labels: z.array(binary).min(1).max(ML_LIMITS.points).optional().describe('Inline form: truth per point, 1 anomalous, 0 normal'),
    scores: z.array(z.number()).max(ML_LIMITS.points).optional().describe('Inline form: anomaly scores per point (for ROC and PR AUC; labelled at threshold when predictions are absent)'),
    predictions: z.array(binary).max(ML_LIMITS.points).optional().describe('Inline form: alarms per point, 1 or 0'),
    threshold: z.number().optional().describe(`Inline form: score at or above which a point counts as an alarm, when predictions are absent (default ${DEFAULT_EVALUATION_THRESHOLD})`),
    windows: z
      .array(z.strictObject({ start: z.number().int().min(0), end: z.number().int().min(0) }))
      .max(10_000)
      .optional()
      .describe('Inline form: anomaly windows (inclusive point indices) for the event-window score; default: runs of labelled points'),
    modelId: resourceId.optional().describe('Model form: a READY model of yours (or a baseline model, evaluated but not stored); give it with datasetId'),
    version: z.number().int().min(1).optional().describe('Model form: the model version to evaluate; default its current version'),
    datasetId: resourceId.optional().describe('Model form: a READY dataset of yours with a label column; the model\'s features pick its columns by name'),
    labelColumn: z.string().min(1).max(256).optional().describe('Model form: the column of 0/1 labels; default the dataset schema\'s labelColumn'),
    labelsFrom: z
      .enum(['column', 'verdicts'])
      .optional()
      .describe(
        "Model form: where the truth comes from. column (default): the dataset's label column. verdicts: the operators' verdicts on anomaly episodes (PATCH /anomalies/{id}): a row is 1 when its time falls inside an episode confirmed on one of the model's sensors, else 0 (rejected episodes are normal); the dataset holds the sensors' readings, columns named by sensor id",
      ),
    fromRow: z.number().int().min(0).optional().describe('Model form: first row to score (0-based, over the rows with every feature present); default 0'),
    toRow: z.number().int().min(1).optional().describe('Model form: row to stop before (exclusive); default the end. Scoring starts afresh at fromRow, as predict does'),
    profile: z.enum(['standard', 'lowFp', 'lowFn']).default('standard').describe("SKAB's event-window reward profile"),
  })
  .superRefine((b, ctx) => {
    const modelForm = b.modelId !== undefined || b.datasetId !== undefined;
    if (modelForm === (b.labels !== undefined)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'Give exactly one of labels (with scores or predictions) and modelId with datasetId' });
      return;
    }
    if (modelForm) {
      if (b.modelId === undefined) ctx.addIssue({ code: 'custom', path: ['modelId'], message: 'Give modelId with datasetId' });
      if (b.datasetId === undefined) ctx.addIssue({ code: 'custom', path: ['datasetId'], message: 'Give datasetId with modelId' });
      for (const key of inlineOnly) if (b[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `${key} applies to inline labels only; a model gives its own scores, alarms and threshold` });
      if (b.fromRow !== undefined && b.toRow !== undefined && b.toRow <= b.fromRow) ctx.addIssue({ code: 'custom', path: ['toRow'], message: 'toRow must be greater than fromRow' });
      if (b.labelsFrom === 'verdicts' && b.labelColumn !== undefined) ctx.addIssue({ code: 'custom', path: ['labelColumn'], message: 'labelColumn names the truth of labelsFrom column; verdicts need none' });
      return;
    }
    const labels = b.labels!;
    for (const key of modelOnly) if (b[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `${key} applies to a model evaluation (modelId and datasetId) only` });
    if (!b.scores && !b.predictions) ctx.addIssue({ code: 'custom', path: [], message: 'Give scores, predictions or both' });
    for (const key of ['scores', 'predictions'] as const) {
      const values = b[key];
      if (values && values.length !== labels.length) ctx.addIssue({ code: 'custom', path: [key], message: `${values.length} ${key} for ${labels.length} labels` });
    }
    let previousEnd = -1;
    (b.windows ?? []).forEach((w, i) => {
      if (w.end < w.start || w.end >= labels.length) ctx.addIssue({ code: 'custom', path: ['windows', i], message: `Window must satisfy start <= end < ${labels.length}` });
      else if (w.start <= previousEnd) ctx.addIssue({ code: 'custom', path: ['windows', i], message: 'Windows must be in order and must not overlap' });
      previousEnd = Math.max(previousEnd, w.end);
    });
  });
export type EvaluateRequest = z.infer<typeof evaluateRequest>;
/** The inline form, as the contract lets it through. */
export type InlineEvaluateRequest = EvaluateRequest & { labels: number[] };
/** The model form, as the contract lets it through. */
export type ModelEvaluateRequest = EvaluateRequest & { modelId: string; datasetId: string };
export const isModelEvaluation = (b: EvaluateRequest): b is ModelEvaluateRequest => b.modelId !== undefined && b.datasetId !== undefined;

const rate = z.number().nullable().describe('null when undefined (a zero denominator)');
const eventProfile = z.enum(['standard', 'lowFp', 'lowFn']);

/** What both forms answer: point-wise, ranking and event-window metrics. */
export const evaluationMetrics = z.object({
  points: z.number().int().describe('Points evaluated (with a model: the scored rows with a 0/1 label)'),
  threshold: z.number().nullable().describe('The score threshold used, or null when predictions were given'),
  confusion: z.object({ tp: z.number().int(), fp: z.number().int(), tn: z.number().int(), fn: z.number().int() }),
  precision: rate,
  recall: rate,
  f1: rate,
  falseAlarmRate: rate,
  missedAlarmRate: rate,
  rocAuc: z.number().nullable().describe('null without scores or without both classes'),
  prAuc: z.number().nullable(),
  eventWindow: z.object({
    profile: eventProfile,
    score: z.number().nullable().describe('0 = never alarms, 100 = every window caught at its start; null without windows'),
    windows: z.number().int(),
    detected: z.number().int(),
    falseAlarms: z.number().int().describe('Alarm onsets outside every window'),
    meanDelay: z.number().nullable().describe('Points from window start to first alarm, over detected windows'),
  }),
});
export type EvaluationMetrics = z.infer<typeof evaluationMetrics>;

/** A model evaluated on a dataset: the metrics, what was evaluated, and where the result is stored. */
export const modelEvaluation = evaluationMetrics.extend({
  evaluationId: z.string().describe('Deterministic from model, version, dataset, row range and label column: a retried evaluation overwrites its result'),
  evaluatedAt: z.iso.datetime(),
  model: z.object({ id: z.string(), version: z.number().int().describe('The version evaluated'), detector: z.string(), source: z.enum(['registry', 'layer']) }),
  dataset: z.object({
    id: z.string(),
    labelColumn: z.string().describe('The column of 0/1 labels; "verdicts" when the labels are the operators\' verdicts'),
    labelsFrom: z.enum(['column', 'verdicts']).describe('Where the truth came from'),
    fromRow: z.number().int().describe('First row scored (0-based, over the rows with every feature present)'),
    toRow: z.number().int().describe('Row scoring stopped before (exclusive)'),
    droppedRows: z.number().int().describe('Rows of the processed file left out because a feature was missing'),
    unlabelledRows: z.number().int().describe('Scored rows left out of the metrics because their label is not 0 or 1'),
    anomalies: z.number().int().describe('Rows labelled 1'),
  }),
});
export type ModelEvaluation = z.infer<typeof modelEvaluation>;

export const evaluateResponse = evaluationMetrics.extend({
  evaluationId: modelEvaluation.shape.evaluationId.optional().describe('Model form only'),
  evaluatedAt: modelEvaluation.shape.evaluatedAt.optional().describe('Model form only'),
  model: modelEvaluation.shape.model.optional().describe('Model form only: the model and the version evaluated'),
  dataset: modelEvaluation.shape.dataset.optional().describe('Model form only: which rows were evaluated'),
  stored: z
    .object({ key: z.string().describe('The full result in the models bucket'), onModel: z.boolean().describe('lastEvaluation was set on the model (false when the version evaluated is no longer current)') })
    .nullable()
    .optional()
    .describe('Model form only: where the result is stored; null for a baseline model of the layer'),
});
export type EvaluateResponse = z.infer<typeof evaluateResponse>;

export const evaluateRoute = defineRoute({
  method: 'POST',
  path: '/api/v1/ml/evaluate',
  operationId: 'evaluateDetections',
  summary: 'Quality of inline scores or alarms against labels, or of a model on a labelled dataset (stored with the model)',
  tag: 'ml',
  scope: scopes.models,
  request: { body: evaluateRequest, maxBodyBytes: ML_LIMITS.bodyBytes },
  responses: { 200: { description: 'Point-wise, ranking and event-window metrics', schema: evaluateResponse }, ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422) },
});
