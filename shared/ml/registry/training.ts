import { createHash, randomUUID } from 'node:crypto';
import type { DatasetObjects, DatasetRepository } from '../../data/registry/datasetRepository.js';
import { getReadyDataset } from '../../data/registry/datasets.js';
import { ConflictError, NotFoundError, UnprocessableError } from '../../platform/errors.js';
import type { DetailType, EventPublisher } from '../../platform/events.js';
import { timedOut, userFacingMessage } from '../../platform/failureCause.js';
import { canonicalDetectorName, defaultDetectorName, multivariateKinds, withDefaultOptions } from '../detectors.js';
import { summariseReference } from '../drift/index.js';
import { defaultFeatures, labelFeatures } from '../features.js';
import { confusion, eventWindowScore, pointwiseMetrics, prAuc, rocAuc } from '../metrics/index.js';
import { fitDetector, type DetectorOptions } from '../multivariate/detector.js';
import type { Matrix } from '../multivariate/matrix.js';
import { exportDetectorToOnnx } from '../onnx/export.js';
import { buildManifest } from '../onnx/manifest.js';
import { translated } from './errors.js';
import { modelEventTypes, modelKeys, storedManifestSchema, trainingParameters, type TrainingParameters, withCurrentDetectorName, type ModelMetrics, type ModelRecord, type ModelStatus, type NewTraining, type StoredManifest } from './model.js';
import type { ModelArtifacts, ModelRepository, TrainingStarter } from './modelRepository.js';
import { scoreWithOnnx, type RawScorer } from './onnxScoring.js';
import { confirmedRowsLeftOut, holdout, readTrainingTable, sampledRows, trainingMatrix, trainingRowCount, type TrainingTable } from './trainingData.js';
import type { FailureInput, FitOutput, TrainingRun, TrainingState } from './trainingPipeline.js';
import { confirmedWindows, insideConfirmed, type VerdictLabelStore } from './verdictLabels.js';

type ModelEventType = (typeof modelEventTypes)[keyof typeof modelEventTypes];

/** The bus, for the model events (model.registered is not yet one of the platform's declared detail types). */
export interface ModelEvents {
  publish(detailType: ModelEventType, detail: Record<string, unknown>): Promise<void>;
}
export const modelEvents = (publisher: EventPublisher): ModelEvents => ({ publish: (type, detail) => publisher.publish(type as DetailType, detail) });

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/** One run per model version: the job id (also the execution name) follows from tenant, model and version. */
export const trainingJobId = (tenant: string, modelId: string, version: number) => `train-${sha256(`${tenant}/${modelId}/${version}`).slice(0, 40)}`;

/** The execution input, from the record alone, so that a retried start sends the same input. */
export function trainingRunOf(tenant: string, model: ModelRecord): TrainingRun {
  const l = model.lineage;
  if (l.source === 'byo' || model.detector === 'external') throw new ConflictError(`Model "${model.id}" was brought by its owner, not trained here; train under another id.`);
  return {
    tenant,
    modelId: model.id,
    version: model.version,
    jobId: model.jobId,
    datasetId: l.datasetId,
    processedKey: l.processedKey,
    columns: l.columns,
    detector: canonicalDetectorName(model.detector),
    parameters: l.parameters,
    split: { ...(l.trainRows !== undefined ? { trainRows: l.trainRows } : {}), ...(l.trainFraction !== undefined ? { trainFraction: l.trainFraction } : {}) },
    ...(l.sensitivity !== undefined ? { sensitivity: l.sensitivity } : {}),
    ...(model.correlationId ? { correlationId: model.correlationId } : {}),
  };
}

const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : value,
  );

export interface StartTrainingDeps {
  models: ModelRepository;
  datasets: DatasetRepository;
  starter: TrainingStarter;
}

/**
 * Starts training a model on a READY dataset.
 * Primary course: the dataset is READY, the model is stored TRAINING with its job id, the
 * training state machine is started under that job id, and the record comes back at once.
 * Alternatives: no such dataset, 404; a dataset not READY (FAILED included), 409 with its status
 * and, when FAILED, the step and cause; a dataset whose quality report finds errors (verdict
 * not-trainable), or features that are label columns, 422; the client's
 * model id is taken by a different request, 409; the same request again (a client retry) starts
 * the same run once and answers as the first time did.
 */
export async function startTraining(deps: StartTrainingDeps, tenant: string, input: NewTraining, now = new Date(), correlationId?: string): Promise<ModelRecord> {
  const dataset = await getReadyDataset(deps.datasets, tenant, input.datasetId, 'train');
  const schema = dataset.schema;
  // The quality report's verdict is not-trainable exactly when it finds an error.
  if (dataset.quality && dataset.quality.errors > 0) {
    throw new UnprocessableError(
      `Dataset "${dataset.id}" is not trainable: its quality report finds ${dataset.quality.errors} error(s) (${dataset.quality.checks.join(', ')}); see GET /api/v1/data/quality-report?datasetId=${dataset.id}, fix the data and upload it again.`,
      { code: 'not_trainable', checks: dataset.quality.checks },
    );
  }
  refuseLabelFeatures(input.features ?? [], schema?.labelColumn);
  const id = input.modelId ?? `mdl-${randomUUID()}`;
  const version = 1;
  const model: ModelRecord = {
    id,
    ...(input.name ? { name: input.name } : {}),
    version,
    status: 'TRAINING',
    jobId: trainingJobId(tenant, id, version),
    // A retry keeps the first request's id: the execution's input must not change between attempts.
    ...(correlationId ? { correlationId } : {}),
    detector: input.detector ?? defaultDetectorName,
    lineage: {
      datasetId: dataset.id,
      processedKey: dataset.processedKey,
      ...(input.features ? { requestedFeatures: input.features } : {}),
      columns: {
        ...(schema ? { timestampColumn: schema.timestampColumn } : {}),
        ...(input.features || schema ? { features: input.features ?? (schema ? defaultFeatures(schema) : undefined) } : {}),
        ...(schema?.labelColumn ? { labelColumn: schema.labelColumn } : {}),
      },
      parameters: input.detector === undefined ? defaultParameters(input.parameters ?? {}, input.sensitivity) : (input.parameters ?? {}),
      ...(input.trainRows !== undefined ? { trainRows: input.trainRows } : {}),
      ...(input.trainFraction !== undefined ? { trainFraction: input.trainFraction } : {}),
      ...(input.sensitivity !== undefined ? { sensitivity: input.sensitivity } : {}),
    },
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
  let stored = model;
  try {
    await deps.models.create(tenant, model);
  } catch (error) {
    if (!(error instanceof ConflictError) || !input.modelId) throw error;
    const existing = await deps.models.get(tenant, id);
    const same = existing && canonical([canonicalDetectorName(existing.detector), existing.name, existing.lineage]) === canonical([model.detector, model.name, model.lineage]);
    if (!existing || !same) throw new ConflictError(`A model with id "${id}" already exists (trained from another request).`);
    stored = withCurrentDetectorName(existing);
  }
  // Same name and input as any earlier attempt: Step Functions runs it once.
  await deps.starter.start(stored.jobId, trainingRunOf(tenant, stored));
  return stored;
}

/** Labels are never features: a request naming one is refused. */
function refuseLabelFeatures(features: readonly string[], labelColumn: string | undefined): void {
  const labels = labelFeatures(features, labelColumn);
  if (labels.length > 0) {
    throw new UnprocessableError(`${labels.map((l) => JSON.stringify(l)).join(', ')} ${labels.length === 1 ? 'is a label column' : 'are label columns'}; labels are never features: leave ${labels.length === 1 ? 'it' : 'them'} out of features.`);
  }
}

/** The detector options of a run. */
function detectorOptions(run: TrainingRun, features: string[]): DetectorOptions {
  const p = run.parameters;
  return {
    detector: multivariateKinds[run.detector],
    featureNames: features,
    inputWindow: p.inputWindow,
    scoreWindow: p.scoreWindow,
    driftHorizon: p.driftHorizon,
    targetFalseAlarmRate: p.targetFalseAlarmRate,
    calibrationFolds: p.calibrationFolds,
    slowFeatures: p.slowFeatures,
    sensitivity: run.sensitivity,
    pca: p.pca,
    iforest: p.iforest,
    autoencoder: p.autoencoder,
    tail: p.tail,
  };
}

/** A run that names no detector trains the default one with the default parameters (the request's own over them). */
function defaultParameters(given: TrainingParameters, sensitivity: number | undefined): TrainingParameters {
  const options: Partial<DetectorOptions> = withDefaultOptions({ ...given, sensitivity });
  delete options.detector;
  delete options.sensitivity;
  return trainingParameters.parse(options);
}

export interface StepDeps {
  models: ModelRepository;
  artifacts: ModelArtifacts;
  /** Read access to the datasets bucket (the processed CSV). */
  datasetObjects: Pick<DatasetObjects, 'read'>;
  /** The operators' verdicts the ml context keeps (anomaly.reviewed): rows inside a confirmed anomaly of a feature's sensor are not learnt from. */
  verdicts?: Pick<VerdictLabelStore, 'list'>;
}

async function readTable(deps: StepDeps, run: TrainingRun, features?: string[]): Promise<TrainingTable> {
  return readTrainingTable(await deps.datasetObjects.read(run.processedKey), { ...run.columns, ...(features ? { features } : {}) });
}

async function advance(deps: Pick<StepDeps, 'models'>, run: TrainingRun, changes: Parameters<ModelRepository['update']>[2], from: readonly ModelStatus[], remove?: Parameters<ModelRepository['update']>[4]) {
  const applied = await deps.models.update(run.tenant, run.modelId, changes, { jobId: run.jobId, allowedFrom: from }, remove);
  if (!applied) throw new ConflictError(`Model "${run.modelId}" is no longer in run ${run.jobId} at ${from.join(' or ')}; this step is stale.`);
}

/**
 * Training step "fit".
 * Primary course: streams the processed CSV, fits the detector on the leading rows (rows labelled
 * anomalous left out), exports it to ONNX with its manifest and the drift reference, writes both to
 * the staging keys and moves the model to EVALUATING. A retry writes the same keys.
 */
export async function fitModel(deps: StepDeps, run: TrainingRun): Promise<FitOutput> {
  // A dataset without a schema has its columns inferred only now: its label columns are left out here.
  if (run.columns.features) refuseLabelFeatures(run.columns.features, run.columns.labelColumn);
  const table = await readTable(deps, run);
  const trainRows = trainingRowCount(table.matrix.rows, run.split, table.labels);
  // The features are sensors when the dataset holds sensors' readings: their confirmed anomalies are not normal.
  const confirmed = deps.verdicts ? insideConfirmed(table.times, await confirmedWindows(deps.verdicts, run.tenant, table.features)) : undefined;
  const train = trainingMatrix(table, trainRows, confirmed);
  const confirmedLeftOut = confirmed ? confirmedRowsLeftOut(table.labels, confirmed, trainRows) : 0;
  const detector = await translated(() => fitDetector(train, detectorOptions(run, table.features)));
  const bytes = exportDetectorToOnnx(detector);
  const manifest: StoredManifest = {
    ...buildManifest(detector),
    model: { id: run.modelId, version: run.version, datasetId: run.datasetId },
    reference: await translated(() => summariseReference(sampledRows(train, 50_000), table.features)),
  };
  const keys = modelKeys(run.tenant, run.modelId, run.version);
  const hash = sha256(bytes);
  await deps.artifacts.put(keys.stagingModel, bytes, 'application/octet-stream');
  await deps.artifacts.put(keys.stagingManifest, JSON.stringify(manifest), 'application/json');
  await advance(deps, run, {
    status: 'EVALUATING',
    features: table.features,
    training: {
      rows: detector.training.rows,
      droppedRows: table.droppedRows,
      splitAt: trainRows,
      labelledAnomaliesLeftOut: trainRows - train.rows - confirmedLeftOut,
      confirmedAnomaliesLeftOut: confirmedLeftOut,
      seconds: detector.training.seconds,
      threshold: detector.calibration.threshold,
    },
    staging: { modelKey: keys.stagingModel, manifestKey: keys.stagingManifest, bytes: bytes.length, sha256: hash },
  }, ['TRAINING', 'EVALUATING']);
  return { features: table.features, trainRows, usableRows: table.matrix.rows, sha256: hash, bytes: bytes.length };
}

const orNull = (x: number) => (Number.isFinite(x) ? x : null);

function quantile(sorted: Float64Array, q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))];
}

/** Alarm rate and score quantiles of scored rows, and the labelled metrics where labels are known. */
export function modelMetricsOf(scores: Float64Array, labels: Uint8Array, truth: Float64Array | null, evaluatedOn: ModelMetrics['evaluatedOn']): ModelMetrics {
  const sorted = Float64Array.from(scores).sort();
  let alarms = 0;
  for (const l of labels) alarms += l;
  const metrics: ModelMetrics = {
    evaluatedOn,
    rows: scores.length,
    alarmRate: scores.length > 0 ? alarms / scores.length : 0,
    scoreQuantiles: { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), p99: quantile(sorted, 0.99) },
  };
  if (!truth) return metrics;
  const known: number[] = [];
  for (let i = 0; i < truth.length; i++) if (truth[i] === 0 || truth[i] === 1) known.push(i);
  if (known.length === 0) return metrics;
  const t = known.map((i) => truth[i]);
  const p = known.map((i) => labels[i]);
  const s = known.map((i) => scores[i]);
  const anomalies = t.filter((v) => v === 1).length;
  const both = anomalies > 0 && anomalies < t.length;
  const pm = pointwiseMetrics(confusion(t, p));
  return {
    ...metrics,
    labelled: {
      anomalies,
      tp: pm.tp,
      fp: pm.fp,
      tn: pm.tn,
      fn: pm.fn,
      precision: orNull(pm.precision),
      recall: orNull(pm.recall),
      f1: orNull(pm.f1),
      falseAlarmRate: orNull(pm.far),
      missedAlarmRate: orNull(pm.mar),
      rocAuc: both ? orNull(rocAuc(t, s)) : null,
      prAuc: both ? orNull(prAuc(t, s)) : null,
      eventWindowScore: anomalies > 0 ? orNull(eventWindowScore(t, p).score) : null,
    },
  };
}

export interface EvaluateDeps extends StepDeps {
  /** An onnxruntime scorer of model bytes (createOnnxScorer). */
  loadScorer(bytes: Uint8Array): Promise<RawScorer & { release?: () => Promise<void> }>;
}

async function stagedManifest(artifacts: ModelArtifacts, key: string): Promise<StoredManifest> {
  const text = await artifacts.getBytes(key);
  if (!text) throw new UnprocessableError(`The staged manifest ${key} is missing; the fit step did not complete.`);
  return storedManifestSchema.parse(JSON.parse(Buffer.from(text).toString('utf8')));
}

/**
 * Training step "evaluate".
 * Primary course: scores the hold-out rows with the staged ONNX artifact (the bytes predict will
 * load), computes the alarm rate and, when the dataset has labels, precision, recall, F1, FAR,
 * MAR, ROC/PR AUC and the event-window score; stores them and moves the model to REGISTERING.
 */
export async function evaluateModel(deps: EvaluateDeps, state: TrainingState): Promise<{ metrics: ModelMetrics }> {
  const fit = state.steps?.fit?.output;
  if (!fit) throw new UnprocessableError('The evaluate step needs the fit step output.');
  const keys = modelKeys(state.tenant, state.modelId, state.version);
  const bytes = await deps.artifacts.getBytes(keys.stagingModel);
  if (!bytes) throw new UnprocessableError(`The staged model ${keys.stagingModel} is missing; the fit step did not complete.`);
  const manifest = await stagedManifest(deps.artifacts, keys.stagingManifest);
  const table = await readTable(deps, state, fit.features);
  const rest = holdout(table, fit.trainRows);
  const evaluatedOn = rest.matrix.rows > 0 ? 'holdout' : 'training';
  const rows: Matrix = evaluatedOn === 'holdout' ? rest.matrix : trainingMatrix(table, fit.trainRows);
  const truth = evaluatedOn === 'holdout' ? rest.labels : null;
  const scorer = await translated(() => deps.loadScorer(bytes));
  try {
    const result = await translated(() => scoreWithOnnx(scorer, manifest, rows));
    const metrics = modelMetricsOf(result.scores, result.labels, truth, evaluatedOn);
    await advance(deps, state, { status: 'REGISTERING', metrics }, ['EVALUATING', 'REGISTERING']);
    return { metrics };
  } finally {
    await scorer.release?.();
  }
}

/** True when the record shows this run's register step committed: the version is READY with its artifact. */
const committed = (record: ModelRecord | undefined, state: TrainingState): boolean =>
  record?.jobId === state.jobId && record.version === state.version && record.status === 'READY' && record.artifact !== undefined;

/**
 * Training step "register".
 * Primary course: copies the staged model to its final key, writes the final manifest (with the
 * metrics), marks the model READY with its artifact (the commit), deletes the staging objects and
 * publishes model.registered.
 * Alternative: a retry after the commit (the publish failed, or the function timed out) finds the
 * model READY with this run's job id: the staging objects are gone by then, so it only finishes
 * the clean-up and publishes the event.
 */
export async function registerModel(deps: { models: ModelRepository; artifacts: ModelArtifacts; events: ModelEvents }, state: TrainingState): Promise<{ modelKey: string }> {
  const fit = state.steps?.fit?.output;
  if (!fit) throw new UnprocessableError('The register step needs the fit step output.');
  const keys = modelKeys(state.tenant, state.modelId, state.version);
  const metrics = state.steps?.evaluate?.output.metrics;
  const artifact = { modelKey: keys.model, manifestKey: keys.manifest, bytes: fit.bytes, sha256: fit.sha256 };
  if (!committed(await deps.models.get(state.tenant, state.modelId), state)) {
    const manifest = await stagedManifest(deps.artifacts, keys.stagingManifest);
    await deps.artifacts.copy(keys.stagingModel, keys.model);
    await deps.artifacts.put(keys.manifest, JSON.stringify({ ...manifest, ...(metrics ? { metrics } : {}) }), 'application/json');
    await advance(deps, state, { status: 'READY', artifact }, ['REGISTERING', 'READY'], ['staging']);
  }
  await deps.artifacts.remove([keys.stagingModel, keys.stagingManifest]);
  await deps.events.publish(modelEventTypes.registered, {
    tenant: state.tenant,
    modelId: state.modelId,
    version: state.version,
    detector: state.detector,
    features: fit.features,
    datasetId: state.datasetId,
    artifact,
    ...(metrics ? { metrics } : {}),
    ...(state.correlationId ? { correlationId: state.correlationId } : {}),
  });
  return { modelKey: keys.model };
}

const notReady: readonly ModelStatus[] = ['TRAINING', 'EVALUATING', 'REGISTERING', 'FAILED'];

/** Compensation of "fit": deletes exactly the staging objects the step wrote. */
export async function discardStaging(deps: { models: ModelRepository; artifacts: ModelArtifacts }, state: TrainingState): Promise<void> {
  const keys = modelKeys(state.tenant, state.modelId, state.version);
  await deps.artifacts.remove([keys.stagingModel, keys.stagingManifest]);
  await deps.models.update(state.tenant, state.modelId, {}, { jobId: state.jobId, allowedFrom: notReady }, ['staging']);
}

/**
 * Compensation of "register": deletes the final objects and puts the record back as it was before
 * (REGISTERING, no artifact). A committed registration (READY) is never undone: only what failed
 * before the commit is.
 */
export async function unregisterModel(deps: { models: ModelRepository; artifacts: ModelArtifacts }, state: TrainingState): Promise<void> {
  if (committed(await deps.models.get(state.tenant, state.modelId), state)) return;
  const keys = modelKeys(state.tenant, state.modelId, state.version);
  await deps.artifacts.remove([keys.model, keys.manifest]);
  await deps.models.update(state.tenant, state.modelId, { status: 'REGISTERING' }, { jobId: state.jobId, allowedFrom: ['REGISTERING'] }, ['artifact']);
}

/** The failure's cause in words, from Step Functions' `{ Error, Cause }` of a Lambda task (our typed errors' messages only). */
export function failureCause(failure: FailureInput): string {
  const name = failure.error?.Error ?? 'Unknown';
  if (timedOut(failure.error)) return `The ${failure.failedStep} step ran out of time; train on fewer rows or features.`;
  return (userFacingMessage(failure.error) ?? `An internal error (${name}) stopped the ${failure.failedStep} step; retry with a new model id, or report the job id.`).slice(0, 1000);
}

/**
 * The saga's failure function: marks the model FAILED with the step and cause, after the
 * compensations ran, and publishes pipeline.failed; nothing for a run whose model is READY.
 */
export async function recordTrainingFailure(deps: { models: ModelRepository; events: ModelEvents }, failure: FailureInput, now = new Date()): Promise<void> {
  const cause = failureCause(failure);
  const record = { step: failure.failedStep, cause, at: now.toISOString() };
  const applied = await deps.models.update(failure.tenant, failure.modelId, { status: 'FAILED', failure: record }, { jobId: failure.jobId, allowedFrom: notReady }, ['staging']);
  // The run committed (READY) or was superseded by another run: it has no failure to record.
  if (!applied) return;
  await deps.events.publish(modelEventTypes.trainingFailed, { pipeline: 'training', tenant: failure.tenant, modelId: failure.modelId, version: failure.version, jobId: failure.jobId, ...record, ...(failure.correlationId ? { correlationId: failure.correlationId } : {}) });
}

export async function getModel(models: ModelRepository, tenant: string, id: string): Promise<ModelRecord> {
  const found = await models.get(tenant, id);
  if (!found) throw new NotFoundError(`No model "${id}".`);
  return withCurrentDetectorName(found);
}

export async function listModels(models: ModelRepository, tenant: string, page: { limit: number; cursor?: string }) {
  const listed = await models.list(tenant, page);
  return { ...listed, items: listed.items.map(withCurrentDetectorName) };
}
