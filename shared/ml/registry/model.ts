import { z } from 'zod';
import { resourceId } from '../../platform/ids.js';
import { referenceSummarySchema } from '../drift/index.js';
import { canonicalDetectorName, DEFAULTS_NOTE, defaultDetectorName, DETECTOR_ALIAS_NOTE, detectorNameSchema, multivariateDetectors } from '../detectors.js';
import { calibrationTails } from '../calibration.js';
import { modelManifestSchema, modelSignatureSchema } from '../onnx/manifest.js';

export const modelStatuses = ['TRAINING', 'EVALUATING', 'REGISTERING', 'READY', 'FAILED'] as const;
export type ModelStatus = (typeof modelStatuses)[number];

const positiveInt = (max: number) => z.number().int().min(1).max(max);

/** Detector parameters a training request may set; the rest take the detectors' defaults. */
export const trainingParameters = z
  .strictObject({
    inputWindow: positiveInt(10_000).optional().describe('Trailing mean of the inputs over this many rows (1 = off)'),
    scoreWindow: positiveInt(10_000).optional().describe('Trailing mean of the raw score over this many rows (1 = off)'),
    driftHorizon: z.number().int().min(0).max(1_000_000).optional(),
    targetFalseAlarmRate: z.number().gt(0).max(0.5).optional().describe('Share of normal rows allowed to alarm; overrides sensitivity'),
    calibrationFolds: positiveInt(20).optional().describe('Calibrate on out-of-fold training scores (default 5 for mset, else 1)'),
    tail: z.enum(calibrationTails).optional().describe('Tail of the calibration beyond the training quantile: exponential (default) or gpd (generalized Pareto)'),
    slowFeatures: z
      .union([z.boolean(), z.strictObject({ maxRoughness: z.number().gt(0).max(2).optional(), lag: positiveInt(10_000).optional() })])
      .optional()
      .describe('Slowly drifting features enter as their change over lag rows'),
    pca: z
      .strictObject({ varianceExplained: z.number().gt(0).max(1).optional(), components: positiveInt(1000).optional(), confidence: z.number().gt(0.5).lt(1).optional() })
      .optional(),
    iforest: z.strictObject({ trees: positiveInt(1000).optional(), sampleSize: z.number().int().min(2).max(100_000).optional(), seed: z.number().int().optional() }).optional(),
    autoencoder: z
      .strictObject({
        hidden: z.array(positiveInt(1024)).min(1).max(8).optional(),
        epochs: positiveInt(5000).optional(),
        batchSize: positiveInt(65_536).optional(),
        learningRate: z.number().gt(0).max(1).optional(),
        inputNoise: z.number().min(0).max(10).optional(),
        weightDecay: z.number().min(0).max(1).optional(),
        seed: z.number().int().optional(),
      })
      .optional(),
  })
  .describe('Detector options');
export type TrainingParameters = z.infer<typeof trainingParameters>;

const featureList = z
  .array(z.string().min(1).max(200))
  .min(1)
  .max(1000)
  .refine((f) => new Set(f).size === f.length, 'Features must be distinct');

export const newTraining = z
  .strictObject({
    modelId: resourceId.optional().describe('Chosen by the client: a retried request with the same id starts one run; generated when absent'),
    name: z.string().trim().min(1).max(200).optional(),
    datasetId: resourceId.describe('A READY dataset of this tenant'),
    detector: detectorNameSchema(multivariateDetectors)
      .optional()
      .describe(`The detector to train. Without it: ${defaultDetectorName} with the default parameters (${DEFAULTS_NOTE}), the request's own parameters over them; a named detector takes only the parameters given. ${DETECTOR_ALIAS_NOTE}`),
    features: featureList.optional().describe('Columns of the processed dataset to train on, in order; default all sensor columns'),
    parameters: trainingParameters.optional(),
    trainRows: z.number().int().min(10).max(10_000_000).optional().describe('Fit on the first N rows; the rest are held out for evaluation'),
    trainFraction: z.number().gt(0).max(1).optional().describe('Fit on this leading share of the rows (default 0.7)'),
    sensitivity: z.number().min(0).max(100).optional().describe('0 (fewest alarms) to 100 (most)'),
  })
  .refine((t) => t.trainRows === undefined || t.trainFraction === undefined, { message: 'Give trainRows or trainFraction, not both', path: ['trainFraction'] });
export type NewTraining = z.infer<typeof newTraining>;

export const modelFailure = z.object({
  step: z.string().describe('The training step that failed'),
  cause: z.string().describe('Why, in words a person can act on'),
  at: z.iso.datetime(),
});

const metricNumber = z.number().nullable().describe('null when undefined on the hold-out (e.g. recall without anomalies)');

export const modelMetrics = z.object({
  evaluatedOn: z.enum(['holdout', 'training']).describe('The hold-out rows, or the training rows when the split leaves none'),
  rows: z.number().int(),
  /** Share of the evaluated rows the model labels anomalous. */
  alarmRate: z.number(),
  scoreQuantiles: z.object({ p50: z.number(), p95: z.number(), p99: z.number() }),
  labelled: z
    .object({
      anomalies: z.number().int(),
      tp: z.number().int(),
      fp: z.number().int(),
      tn: z.number().int(),
      fn: z.number().int(),
      precision: metricNumber,
      recall: metricNumber,
      f1: metricNumber,
      falseAlarmRate: metricNumber,
      missedAlarmRate: metricNumber,
      rocAuc: metricNumber,
      prAuc: metricNumber,
      eventWindowScore: metricNumber,
    })
    .optional()
    .describe('Present when the dataset has a label column and the hold-out has labels'),
});
export type ModelMetrics = z.infer<typeof modelMetrics>;

const finite = z.number().refine(Number.isFinite, 'must be finite');
const ioName = z.string().trim().min(1).max(200);

/** What a model version may be: one of our detectors, or a user's own ONNX model. */
export const modelDetectors = [...multivariateDetectors, 'external'] as const;

/** A record as the API answers it: records stored before the rename say `iforest`. */
export const withCurrentDetectorName = (record: ModelRecord): ModelRecord => ({ ...record, detector: canonicalDetectorName(record.detector) });

/** How predict turns a BYO model's raw score into the score it reports. */
export const scoreRange = z
  .strictObject({
    min: finite,
    max: finite,
    scale: z
      .enum(['none', 'clamp', 'minmax'])
      .default('none')
      .describe('none: the raw score as returned; clamp: the raw score clamped to [min, max]; minmax: (raw - min) / (max - min) clamped to [0, 1]'),
  })
  .refine((r) => r.max > r.min, { message: 'max must be greater than min', path: ['max'] })
  .describe('The range the model\'s score spans; higher scores must mean more anomalous');
export type ScoreRange = z.infer<typeof scoreRange>;

/** The inputs and outputs a user declares for their own ONNX model. */
export const byoSignature = z.strictObject({
  input: z.strictObject({
    name: ioName.describe('Name of the model\'s single float32 input, shaped [rows, features]'),
    features: featureList.describe('The feature names, in the order of the input\'s columns'),
  }),
  outputs: z.strictObject({
    score: ioName.describe('Output with one anomaly score per row (higher is more anomalous)'),
    contributions: ioName.optional().describe('Output with one value per feature per row; predict reports each row\'s shares of their absolute values'),
  }),
  scoreRange: scoreRange.optional(),
});
export type ByoSignature = z.infer<typeof byoSignature>;

export const modelArtifact = z.object({
  modelKey: z.string().describe('S3 key of model.onnx in the models bucket'),
  manifestKey: z.string().describe('S3 key of manifest.json (features, calibration, drift reference)'),
  bytes: z.number().int(),
  sha256: z.string(),
});
export type ModelArtifact = z.infer<typeof modelArtifact>;

const trainedLineage = z.object({
  source: z.literal('training').optional().describe('Trained here (records from before BYO models have no source)'),
  datasetId: z.string(),
  processedKey: z.string(),
  requestedFeatures: z.array(z.string()).optional(),
  columns: z
    .object({ timestampColumn: z.string().optional(), features: z.array(z.string()).optional(), labelColumn: z.string().optional() })
    .describe('The dataset columns training reads, resolved from its schema when the request was accepted'),
  parameters: trainingParameters,
  trainRows: z.number().int().optional(),
  trainFraction: z.number().optional(),
  sensitivity: z.number().optional(),
});

const byoLineage = z.object({
  source: z.literal('byo').describe('Brought by the user: registered through POST /mlops/models'),
  sha256: z.string().describe('Of the ONNX bytes'),
  bytes: z.number().int(),
  framework: z.enum(['pytorch', 'sklearn', 'other']),
  notes: z.string().optional(),
  signature: byoSignature,
  threshold: z.object({
    raw: z.number().describe('Raw score at and above which a row is anomalous'),
    calibration: z.object({ rows: z.number().int(), falseAlarmRate: z.number() }).optional().describe('Set when the threshold was calibrated on rows of normal data'),
  }),
  declarationSha256: z.string().describe('Of the declared signature and threshold: with sha256, what makes a retried registration the same version'),
});
export type ByoLineage = z.infer<typeof byoLineage>;

/** The latest evaluation of the version on a labelled dataset (POST /ml/evaluate with modelId); the full result is stored beside the model. */
export const lastEvaluation = z.object({
  id: z.string().describe('The evaluation id: its result is models/<tenant>/<model>/<version>/evaluations/<id>.json in the models bucket'),
  datasetId: z.string(),
  at: z.iso.datetime(),
  f1: metricNumber,
  far: metricNumber.describe('False-alarm rate'),
  mar: metricNumber.describe('Missed-alarm rate'),
  rocAuc: metricNumber,
  eventWindowScore: metricNumber,
});
export type LastEvaluation = z.infer<typeof lastEvaluation>;

export const modelRecord = z.object({
  id: resourceId,
  name: z.string().optional(),
  version: z.number().int().min(1),
  status: z.enum(modelStatuses),
  jobId: z.string().describe('The training run (also its Step Functions execution name); for a BYO model, its registration'),
  correlationId: z.string().optional().describe('Correlation id of the request that started the training: its steps log it and its events carry it'),
  description: z.string().optional(),
  detector: z.enum(modelDetectors).describe('external for a model brought by the user'),
  features: z.array(z.string()).optional().describe('In the order predict expects them; known once training has read the data'),
  lineage: z.union([trainedLineage, byoLineage]),
  training: z
    .object({
      rows: z.number().int().describe('Rows the detector learnt from'),
      droppedRows: z.number().int().describe('Rows of the file dropped for a missing feature'),
      splitAt: z.number().int().optional().describe('The first splitAt usable rows are the training part, the rest the hold-out (by default 70%, or the rows before the first labelled anomaly when fewer)'),
      labelledAnomaliesLeftOut: z.number().int().optional().describe('Rows of the training part labelled anomalous: left out, so the detector learns what normal looks like'),
      confirmedAnomaliesLeftOut: z
        .number()
        .int()
        .optional()
        .describe("Rows of the training part inside an anomaly an operator confirmed on one of the model's sensors (PATCH /anomalies/{id}), not labelled in the dataset: left out as well"),
      seconds: z.number(),
      threshold: z.number(),
    })
    .optional(),
  metrics: modelMetrics.optional(),
  lastEvaluation: lastEvaluation.optional().describe('The latest evaluation on a labelled dataset (POST /ml/evaluate)'),
  staging: modelArtifact.optional().describe('Where the trained artifact waits for registration'),
  artifact: modelArtifact.optional().describe('The registered artifact, once READY'),
  failure: modelFailure.optional(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type ModelRecord = z.infer<typeof modelRecord>;

/** The manifest.json stored beside model.onnx: the ONNX manifest plus identity, metrics and the drift reference. */
export const storedManifestSchema = modelManifestSchema.extend({
  model: z.object({ id: z.string(), version: z.number().int(), datasetId: z.string().optional() }),
  reference: referenceSummarySchema.optional().describe('Training data summary for drift checks (POST /ml/drift)'),
  metrics: modelMetrics.optional(),
});
export type StoredManifest = z.infer<typeof storedManifestSchema>;

/** The manifest.json of a BYO model version: its declared signature and threshold; no windows or calibration of ours. */
export const byoManifestSchema = z.object({
  format: z.literal('telltale.byo-manifest/1'),
  detector: z.literal('external'),
  features: z.array(z.string().min(1)).min(1),
  signature: modelSignatureSchema,
  scoreRange: scoreRange.optional(),
  /** In raw-score units. */
  threshold: finite,
  model: z.object({ id: z.string(), version: z.number().int() }),
  source: z.object({ framework: z.enum(['pytorch', 'sklearn', 'other']), notes: z.string().optional(), sha256: z.string() }),
});
export type ByoManifest = z.infer<typeof byoManifestSchema>;

/** Where a model version's objects live in the models bucket; staging waits for registration. */
export const modelKeys = (tenant: string, id: string, version: number) => {
  const root = `models/${tenant}/${id}/${version}`;
  const staging = `staging/${tenant}/${id}/${version}`;
  return {
    root,
    model: `${root}/model.onnx`,
    manifest: `${root}/manifest.json`,
    stagingModel: `${staging}/model.onnx`,
    stagingManifest: `${staging}/manifest.json`,
    /** An evaluation's full result (POST /ml/evaluate): a retried evaluation has the same id, so it overwrites. */
    evaluation: (evaluationId: string) => `${root}/evaluations/${evaluationId}.json`,
  };
};

/** Baseline models shipped in the models layer: the same for every tenant, read-only. */
export const baselineModelIds = ['baseline-pca', 'baseline-autoencoder'] as const;
export const isBaselineModel = (id: string): id is (typeof baselineModelIds)[number] => (baselineModelIds as readonly string[]).includes(id);

/** Detail types the training pipeline publishes on the bus. */
export const modelEventTypes = { registered: 'model.registered', trainingFailed: 'pipeline.failed' } as const;
