import { registerDatasetRoute, listDatasetsRoute, getDatasetRoute, rerunDatasetRoute, requestUploadRoute, deleteDatasetRoute } from './data/registry/contract.js';
import { datasetKeys } from './data/registry/dataset.js';
import { preprocessDataRoute, qualityReportRoute, validateDataRoute } from './data/api/contract.js';
import { datasetPipeline } from './data/pipeline/datasetPipeline.js';
import type { RouteContract } from './http/route.js';
import { deployModelRoute, getDeploymentRoute } from './mlops/contract.js';
import { healthDependenciesRoute, healthRoute } from './monitoring/contract.js';
import { createAlertRuleRoute, deleteAlertRuleRoute, getAlertRuleRoute, listAlertEventsRoute, listAlertRulesRoute, updateAlertRuleRoute } from './monitoring/alertContract.js';
import { evaluatedDetailTypes } from './monitoring/alertSignals.js';
import { probedResources } from './monitoring/health.js';
import { openApiRoute } from './gateway/contract.js';
import { detectRoute, driftRoute, evaluateRoute, forecastRoute } from './ml/api/contract.js';
import { getModelRoute, listModelsRoute, listModelVersionsRoute, predictRoute, registerModelVersionRoute, trainModelRoute } from './ml/registry/contract.js';
import { modelKeys } from './ml/registry/model.js';
import { trainingFunctionNames as training, trainingSaga } from './ml/registry/trainingPipeline.js';
import { detailTypes } from './platform/events.js';
import type { BoundedContext, BucketName, QueueName, TableName } from './platform/resources.js';
import type { SagaDefinition } from './platform/saga.js';
import { getAnomalyRoute, listAnomaliesRoute, reviewAnomalyRoute } from './sensors/anomalyContract.js';
import { getSensorRoute, listSensorsRoute, registerSensorRoute } from './sensors/contract.js';
import { getLabelledHistoryRoute, getReadingsRoute, ingestReadingsRoute } from './sensors/readingsContract.js';
// monitoring: platform metrics and dashboards
import { getDashboardsRoute } from './monitoring/dashboards.js';
import { getMetricsRoute } from './monitoring/metricsContract.js';
import { countedDetailTypes } from './monitoring/metricsEvents.js';

export type Access = 'read' | 'write' | 'readWrite';
/** Reading every tenant's items (a Scan besides the reads): for a schedule that walks all tenants, never for a request. */
export type ScanAll = 'scanAll';
/** Health probes only: the resource's name, DescribeTable or HeadBucket, and no item or object. */
export type Probe = 'probe';

/**
 * What a function may do with objects: read them (and their versions), write them (multipart too),
 * delete them, or purge them (every version, listing versions: to delete data for good, the buckets being versioned).
 */
export type ObjectAccess = 'read' | 'write' | 'delete' | 'purge';
/** Object actions on the keys that match `prefixes`, IAM patterns where `*` matches any run of characters (`/` included). */
export interface ObjectGrant {
  access: readonly ObjectAccess[];
  prefixes: readonly string[];
}

/** What a function is allowed to touch. The CDK turns each entry into an env var plus a least-privilege grant. */
export interface Bindings {
  tables?: Partial<Record<TableName, Access | Probe | ScanAll>>;
  /** An Access grants it on every key of the bucket; prefer object grants on the keys the function uses. */
  buckets?: Partial<Record<BucketName, Access | Probe | readonly ObjectGrant[]>>;
  queues?: Partial<Record<QueueName, 'send'>>;
  /** Put events on the bus. */
  bus?: boolean;
  /** Start executions of these state machines. */
  stateMachines?: Partial<Record<WorkflowName, 'start'>>;
  /** Alert webhook signing secrets (SSM SecureString parameters of the stage): write and delete them, or read them. */
  alertSecrets?: 'manage' | 'read';
  /** The tenants' alert SNS topics of the stage (created on first use): subscribe addresses, or publish. */
  alertTopics?: 'subscribe' | 'publish';
}

/**
 * The state machines, declared once as sagas of catalog functions. Step Functions (CDK) and the
 * local cloud (aws-local-stepfunctions) run the same definition, from `sagaDefinition()`.
 */
export const workflows = {
  datasetPipeline,
  trainingPipeline: trainingSaga,
} as const satisfies Record<string, SagaDefinition>;
export type WorkflowName = keyof typeof workflows;

export type Trigger =
  | { kind: 'http'; route: RouteContract }
  | { kind: 'queue'; queue: QueueName; batchSize: number; maxBatchingWindowSeconds: number }
  /** An EventBridge rule on the bus: events whose detail-type is listed (and source matches, when given). */
  | { kind: 'event'; detailTypes: readonly string[]; source?: string }
  /** A step of a state machine in `workflows`. */
  | { kind: 'task' }
  /**
   * S3 "Object Created" events of a bucket (S3 sends them to the default bus) whose key matches an
   * EventBridge wildcard pattern (`*` matches any run of characters).
   */
  | { kind: 'objectCreated'; bucket: BucketName; keyPattern: string }
  /** A Cognito user pool trigger (pre token generation, V3_0 event); the data stack wires it to the pool. */
  | { kind: 'cognito'; operation: 'preTokenGeneration' }
  /** Runs every N minutes (an EventBridge schedule rule on AWS, a timer on the local cloud); the event's `time` is the tick's. */
  | { kind: 'schedule'; everyMinutes: number };

export interface FunctionDeclaration {
  /** Logical name, unique; also the construct id. */
  name: string;
  context: BoundedContext;
  /** Entry file, relative to the repository root; exports `handler`. */
  entry: string;
  description: string;
  memoryMb: number;
  timeoutSeconds: number;
  /** onnxruntime has crash reports on arm64 Lambda, so inference functions run on x86_64. */
  architecture: 'arm64' | 'x86_64';
  trigger: Trigger;
  binds: Bindings;
  /** Runs onnxruntime: gets the models layer (the native addon and the baseline models). */
  usesModelsLayer?: boolean;
}

type Options = Partial<Pick<FunctionDeclaration, 'memoryMb' | 'timeoutSeconds' | 'architecture' | 'description' | 'usesModelsLayer'>>;

const api = (
  name: string,
  context: BoundedContext,
  route: RouteContract,
  binds: Bindings,
  options: Options = {},
): FunctionDeclaration => ({
  name,
  context,
  entry: `functions/${context}/${name}.ts`,
  description: options.description ?? route.summary,
  memoryMb: options.memoryMb ?? 512,
  timeoutSeconds: options.timeoutSeconds ?? 10,
  architecture: options.architecture ?? 'arm64',
  trigger: { kind: 'http', route },
  binds,
  ...(options.usesModelsLayer ? { usesModelsLayer: true } : {}),
});

/** A function that is not an API route: a pipeline step, an event or queue consumer. */
const fn = (
  name: string,
  context: BoundedContext,
  entry: string,
  description: string,
  trigger: Trigger,
  binds: Bindings,
  options: Options = {},
): FunctionDeclaration => ({
  name,
  context,
  entry,
  description,
  memoryMb: options.memoryMb ?? 512,
  timeoutSeconds: options.timeoutSeconds ?? 60,
  architecture: options.architecture ?? 'arm64',
  trigger,
  binds,
  ...(options.usesModelsLayer ? { usesModelsLayer: true } : {}),
});

const task = { kind: 'task' } as const;

// The key layouts with every segment a wildcard give the grants' patterns, so a grant follows its layout.
const datasetKey = datasetKeys('*', '*');
const modelKey = modelKeys('*', '*', '*' as unknown as number);
const objects = {
  /** Everything of a dataset under its root (raw files, runs' outputs). */
  dataset: `${datasetKey.root}/*`,
  raw: datasetKey.raw('*'),
  processed: datasetKey.run('*').processed,
  validationReport: datasetKey.run('*').validation,
  qualityReport: datasetKey.run('*').quality,
  schema: datasetKey.run('*').schema,
  /** Everything runs write under their own prefix (a compensation or a newer Publish removes them). */
  runOutputs: `${datasetKey.run('*').prefix}*`,
  /** Scratch of a split run's chunks. */
  work: `${datasetKey.work('*').prefix}*`,
  staged: [modelKey.stagingModel, modelKey.stagingManifest],
  version: [modelKey.model, modelKey.manifest],
  evaluations: modelKey.evaluation('*'),
};
const grant = (access: ObjectGrant['access'], ...prefixes: string[]): ObjectGrant => ({ access, prefixes });
const probes = { tables: { [probedResources.table]: 'probe' }, buckets: { [probedResources.bucket]: 'probe' } } as const satisfies Bindings;
const readsProcessed = { datasets: [grant(['read'], objects.processed)] } as const satisfies Bindings['buckets'];

/**
 * Every function of Telltale, declared once. The CDK stacks and the embedded local cloud both
 * walk this list; nobody wires a function by hand.
 */
export const catalog: readonly FunctionDeclaration[] = [
  api('health', 'monitoring', healthRoute, probes, { memoryMb: 256 }),
  api('healthDependencies', 'monitoring', healthDependenciesRoute, probes, { memoryMb: 256 }),
  // monitoring: the tenant's per-minute figures (shared/monitoring/metrics.ts). The functions on hot paths (ingest, predict,
  // the scorer) add to them in memory and write in the background; events are counted by countEvents.
  api('getMetrics', 'monitoring', getMetricsRoute, { tables: { monitoring: 'read' } }),
  api('getDashboards', 'monitoring', getDashboardsRoute, { tables: { sensors: 'read' } }, { memoryMb: 256 }),
  fn('countEvents', 'monitoring', 'functions/monitoring/countEvents.ts', "Counts the platform's events (episodes opened, alerts fired, deliveries failed, pipeline runs, training jobs) in the tenant's minute",
    { kind: 'event', detailTypes: countedDetailTypes }, { tables: { monitoring: 'write', idempotency: 'readWrite' } }, { memoryMb: 256, timeoutSeconds: 10 }),
  api('openApiDocument', 'gateway', openApiRoute, {}, { memoryMb: 256 }),
  api('registerSensor', 'sensors', registerSensorRoute, { tables: { sensors: 'write' } }),
  api('listSensors', 'sensors', listSensorsRoute, { tables: { sensors: 'read' } }),
  api('getSensor', 'sensors', getSensorRoute, { tables: { sensors: 'read' } }),
  // sensors: readings. POST /readings checks and queues (registered sensors cached per container); storeReadings
  // stores each (tenant, sensor, timestamp) once and forwards to the scoring queue. A full vCPU for the JSON work.
  // The ingest queue is FIFO (a sensor's messages in order), and a FIFO event source takes at most 10 messages and no
  // batching window; the messages of a sensor in one delivery still share one write per bucket.
  api('ingestReadings', 'sensors', ingestReadingsRoute, { tables: { sensors: 'read', idempotency: 'readWrite', monitoring: 'write' }, queues: { ingest: 'send' } }, { memoryMb: 1769 }),
  fn('storeReadings', 'sensors', 'functions/sensors/storeReadings.ts', 'Stores queued readings (one write per bucket for the messages of a sensor), forwards them to the scorer',
    { kind: 'queue', queue: 'ingest', batchSize: 10, maxBatchingWindowSeconds: 0 }, { tables: { readings: 'readWrite', sensors: 'read' }, queues: { scoring: 'send' } }, { memoryMb: 1024, timeoutSeconds: 30 }),
  api('getReadings', 'sensors', getReadingsRoute, { tables: { readings: 'read', sensors: 'read' } }, { memoryMb: 1024, timeoutSeconds: 29 }),
  // data: datasets, inline checks, the quality report, and the pipeline's steps
  // register reads back the raw object when a retry repeats its inline request.
  api('registerDataset', 'data', registerDatasetRoute, { tables: { datasets: 'readWrite', sensors: 'read' }, buckets: { datasets: [grant(['read', 'write'], objects.raw)] } }),
  // Signing an upload URL needs PutObject: S3 checks the signer's permissions when the PUT arrives.
  // Asking for an upload URL records the request's correlation id on the dataset, for the run of that upload.
  api('requestDatasetUpload', 'data', requestUploadRoute, { tables: { datasets: 'readWrite' }, buckets: { datasets: [grant(['write'], objects.raw)] } }),
  api('deleteDataset', 'data', deleteDatasetRoute, { tables: { datasets: 'readWrite' }, buckets: { datasets: [grant(['purge'], objects.dataset, objects.work)] } }, { timeoutSeconds: 29 }),
  api('listDatasets', 'data', listDatasetsRoute, { tables: { datasets: 'read' } }),
  api('getDataset', 'data', getDatasetRoute, { tables: { datasets: 'read' } }),
  api('rerunDataset', 'data', rerunDatasetRoute, { tables: { datasets: 'read' }, buckets: { datasets: [grant(['read'], objects.raw)] }, stateMachines: { datasetPipeline: 'start' } }),
  // validate checks declared sensorIds against the registry, as registering a dataset does.
  api('validateData', 'data', validateDataRoute, { tables: { sensors: 'read' } }, { memoryMb: 1024, timeoutSeconds: 29 }),
  api('preprocessData', 'data', preprocessDataRoute, {}, { memoryMb: 1024, timeoutSeconds: 29 }),
  api('getQualityReport', 'data', qualityReportRoute, { tables: { datasets: 'read' }, buckets: { datasets: [grant(['read'], objects.qualityReport)] } }),
  fn('startDatasetPipeline', 'data', 'functions/data/startDatasetPipeline.ts', 'Starts the dataset pipeline when a file lands under raw/ (one run per object version)',
    { kind: 'objectCreated', bucket: 'datasets', keyPattern: 'datasets/*/*/raw/*' }, { tables: { datasets: 'read' }, stateMachines: { datasetPipeline: 'start' } }, { memoryMb: 256, timeoutSeconds: 30 }),
  fn('planDatasetStep', 'data', 'functions/data/planDatasetStep.ts', 'Pipeline step: record the run; plan byte-range chunks for a Distributed Map when the file is large', task,
    { tables: { datasets: 'readWrite', sensors: 'read' }, buckets: { datasets: [grant(['read'], objects.raw), grant(['write'], objects.work)] } }, { memoryMb: 512, timeoutSeconds: 120 }),
  fn('processDatasetChunk', 'data', 'functions/data/processDatasetChunk.ts', 'Distributed Map item: validate, profile and preprocess one chunk of a large file, to work/', task,
    { buckets: { datasets: [grant(['read'], objects.raw, objects.work), grant(['write', 'delete'], objects.work)] } }, { memoryMb: 1769, timeoutSeconds: 900 }),
  fn('validateDatasetStep', 'data', 'functions/data/validateDatasetStep.ts', 'Pipeline step: validate the raw file (streamed), write the validation report', task,
    { tables: { datasets: 'readWrite', sensors: 'read' }, buckets: { datasets: [grant(['read'], objects.raw, objects.work), grant(['write'], objects.validationReport, objects.schema)] } }, { memoryMb: 1024, timeoutSeconds: 900 }),
  fn('preprocessDatasetStep', 'data', 'functions/data/preprocessDatasetStep.ts', 'Pipeline step: sort, de-duplicate, resample, impute; stream to processed/', task,
    { tables: { datasets: 'readWrite' }, buckets: { datasets: [grant(['read'], objects.raw, objects.work, objects.schema), grant(['write'], objects.processed)] } }, { memoryMb: 1024, timeoutSeconds: 900 }),
  fn('profileDatasetStep', 'data', 'functions/data/profileDatasetStep.ts', 'Pipeline step: the quality report, to reports/', task,
    { tables: { datasets: 'readWrite' }, buckets: { datasets: [grant(['read'], objects.raw, objects.work, objects.schema), grant(['write'], objects.qualityReport), grant(['delete'], objects.work)] } }, { memoryMb: 1024, timeoutSeconds: 900 }),
  // Publish reads the run's schema and removes the outputs of the run it replaces.
  fn('publishDatasetStep', 'data', 'functions/data/publishDatasetStep.ts', "Pipeline step: make the run's outputs the dataset's current ones (READY), publish data.processed", task,
    { tables: { datasets: 'readWrite' }, buckets: { datasets: [grant(['read'], objects.schema), grant(['delete'], objects.runOutputs)] }, bus: true }, { memoryMb: 256 }),
  fn('undoDatasetStep', 'data', 'functions/data/undoDatasetStep.ts', 'Compensation of the pipeline steps: remove what the failed run wrote', task,
    { tables: { datasets: 'readWrite' }, buckets: { datasets: [grant(['delete'], objects.work, objects.runOutputs)] } }, { memoryMb: 256 }),
  fn('failDatasetPipeline', 'data', 'functions/data/failDatasetPipeline.ts', 'Pipeline failure: mark the dataset FAILED with step and cause, publish pipeline.failed', task, { tables: { datasets: 'readWrite' }, bus: true }, { memoryMb: 256 }),
  fn('issueTenantClaim', 'gateway', 'functions/gateway/issueTenantClaim.ts', 'Adds the tenant claim to access tokens (users: custom:tenant; app clients: the tenants table)',
    { kind: 'cognito', operation: 'preTokenGeneration' }, { tables: { tenants: 'read' } }, { memoryMb: 256, timeoutSeconds: 5 }),
  // ml: training (POST /ml/train starts the trainingPipeline saga of shared/ml/registry/trainingPipeline.ts), models, predict.
  // Functions that load onnxruntime run on x86_64 (crash reports on arm64 Lambda) with the models layer.
  api('trainModel', 'ml', trainModelRoute, { tables: { models: 'readWrite', datasets: 'read' }, stateMachines: { trainingPipeline: 'start' } }),
  api('listModels', 'ml', listModelsRoute, { tables: { models: 'read' } }),
  api('getModel', 'ml', getModelRoute, { tables: { models: 'read' } }),
  api('predict', 'ml', predictRoute, { tables: { models: 'read', registry: 'read', monitoring: 'write' }, buckets: { models: [grant(['read'], ...objects.version)] } }, { architecture: 'x86_64', memoryMb: 1024, timeoutSeconds: 15, usesModelsLayer: true }),
  fn(training.fit, 'ml', 'functions/ml/trainingSteps/fit.ts', 'Training step: fit a detector on the processed dataset, export ONNX and manifest to staging', task,
    { tables: { models: 'readWrite' }, buckets: { ...readsProcessed, models: [grant(['write'], ...objects.staged)] } }, { memoryMb: 3008, timeoutSeconds: 900, architecture: 'x86_64', usesModelsLayer: true }),
  fn(training.evaluate, 'ml', 'functions/ml/trainingSteps/evaluate.ts', 'Training step: score the hold-out with the staged ONNX model and store the metrics', task,
    { tables: { models: 'readWrite' }, buckets: { ...readsProcessed, models: [grant(['read'], ...objects.staged)] } }, { memoryMb: 3008, timeoutSeconds: 900, architecture: 'x86_64', usesModelsLayer: true }),
  fn(training.register, 'ml', 'functions/ml/trainingSteps/register.ts', 'Training step: copy the staged model to its version key, mark it READY, publish model.registered', task,
    { tables: { models: 'readWrite' }, buckets: { models: [grant(['read', 'delete'], ...objects.staged), grant(['write'], ...objects.version)] }, bus: true }),
  fn(training.discardStaging, 'ml', 'functions/ml/trainingSteps/discardStaging.ts', 'Compensation of the fit step: delete the staged model and manifest', task,
    { tables: { models: 'readWrite' }, buckets: { models: [grant(['delete'], ...objects.staged)] } }, { memoryMb: 256 }),
  fn(training.unregister, 'ml', 'functions/ml/trainingSteps/unregister.ts', 'Compensation of the register step: delete the version objects and restore the record', task,
    { tables: { models: 'readWrite' }, buckets: { models: [grant(['delete'], ...objects.version)] } }, { memoryMb: 256 }),
  fn(training.recordFailure, 'ml', 'functions/ml/trainingSteps/recordFailure.ts', 'Training failure: mark the model FAILED with the step and cause, publish pipeline.failed', task, { tables: { models: 'readWrite' }, bus: true }, { memoryMb: 256 }),
  // ml: inline computations (no stored data, no onnxruntime). CPU-bound, so detect gets a full vCPU (1769 MB) and stays under HTTP API's 30 s.
  api('detectAnomalies', 'ml', detectRoute, { tables: { datasets: 'read' }, buckets: readsProcessed }, { memoryMb: 1769, timeoutSeconds: 29 }),
  api('forecastSeries', 'ml', forecastRoute, {}, { memoryMb: 1769, timeoutSeconds: 29 }),
  api('detectDrift', 'ml', driftRoute, {}, { memoryMb: 1024, timeoutSeconds: 29 }),
  // evaluate scores a stored model on a stored dataset (as predict) and stores the result with the model.
  api('evaluateDetections', 'ml', evaluateRoute, { tables: { datasets: 'read', models: 'readWrite' }, buckets: { ...readsProcessed, models: [grant(['read'], ...objects.version), grant(['write'], objects.evaluations)] } }, { architecture: 'x86_64', memoryMb: 1769, timeoutSeconds: 29, usesModelsLayer: true }),
  // mlops: models brought by their owners. Registering loads the model in onnxruntime to check it.
  api('registerModel', 'mlops', registerModelVersionRoute, { tables: { models: 'readWrite' }, buckets: { models: [grant(['write'], ...objects.version)] } }, { architecture: 'x86_64', memoryMb: 1769, timeoutSeconds: 29, usesModelsLayer: true }),
  api('listModelVersions', 'mlops', listModelVersionsRoute, { tables: { models: 'read' } }),
  // mlops: deployments of a sensor group (champion and challenger), one versioned item per group in the registry table; promoting reads the model's status.
  api('deployModel', 'mlops', deployModelRoute, { tables: { registry: 'readWrite', models: 'read' } }),
  api('getDeployment', 'mlops', getDeploymentRoute, { tables: { registry: 'read' } }),
  // sensors: streaming scoring of the readings the writer forwards, and the anomaly episodes it raises.
  // The scorer reads the sensor, keeps its state and the episodes in the anomalies table, stores scores beside the readings
  // (a read-modify-write of their bucket items) and publishes anomaly.opened / anomaly.closed; a new sensor that names a READY
  // dataset warms its detector up on it (read as POST /ml/detect reads one). No batching window: a
  // reading's way to anomaly.opened has a 2 s aim, and under load the queue fills batches by itself.
  fn('scoreReadings', 'sensors', 'functions/sensors/scoreReadings.ts', "Scores readings with each sensor's streaming detector, tracks anomaly episodes, publishes anomaly.opened and anomaly.closed",
    { kind: 'queue', queue: 'scoring', batchSize: 10, maxBatchingWindowSeconds: 0 }, { tables: { sensors: 'read', anomalies: 'readWrite', readings: 'readWrite', datasets: 'read', monitoring: 'write' }, buckets: readsProcessed, queues: { groupScoring: 'send' }, bus: true }, { memoryMb: 1024, timeoutSeconds: 60 }),
  // A group's deployed model scores the group's aligned readings through POST /ml/predict's code (routing included), so it
  // is bound as predict is (models and deployments read, version objects read, models layer, x86_64). A function of its
  // own, not the scorer: onnxruntime's cold start and memory are paid only for grouped sensors, and the streaming
  // scorer stays small, on arm64, whatever the models.
  fn('scoreGroupReadings', 'sensors', 'functions/sensors/scoreGroupReadings.ts', "Scores a sensor group's aligned readings with its deployed model (champion or challenger), tracks the model's anomaly episodes",
    { kind: 'queue', queue: 'groupScoring', batchSize: 10, maxBatchingWindowSeconds: 0 },
    { tables: { sensors: 'read', readings: 'read', anomalies: 'readWrite', models: 'read', registry: 'read' }, buckets: { models: [grant(['read'], ...objects.version)] }, bus: true },
    { architecture: 'x86_64', memoryMb: 1024, timeoutSeconds: 60, usesModelsLayer: true }),
  api('listAnomalies', 'sensors', listAnomaliesRoute, { tables: { anomalies: 'read' } }),
  // The sensors context's own export of readings labelled by verdicts: the dataset an evaluation or a training reads.
  api('getLabelledHistory', 'sensors', getLabelledHistoryRoute, { tables: { sensors: 'read', readings: 'read', anomalies: 'read' } }, { memoryMb: 1024, timeoutSeconds: 29 }),
  api('getAnomaly', 'sensors', getAnomalyRoute, { tables: { anomalies: 'read' } }),
  // A verdict is announced (anomaly.reviewed): the ml context keeps it as a label, in its own table, for evaluation and training.
  api('reviewAnomaly', 'sensors', reviewAnomalyRoute, { tables: { anomalies: 'readWrite' }, bus: true }),
  fn('recordVerdictLabel', 'ml', 'functions/ml/recordVerdictLabel.ts', "Keeps an operator's verdict on an anomaly episode as a label (confirmed anomalies are left out of training, and label evaluations)",
    { kind: 'event', detailTypes: [detailTypes.anomalyReviewed] }, { tables: { models: 'readWrite' } }, { memoryMb: 256, timeoutSeconds: 10 }),
  // monitoring: alert rules (the monitoring table), their evaluation on bus events and on a schedule, and their delivery.
  api('createAlertRule', 'monitoring', createAlertRuleRoute, { tables: { monitoring: 'readWrite' }, alertSecrets: 'manage', alertTopics: 'subscribe' }),
  api('listAlertRules', 'monitoring', listAlertRulesRoute, { tables: { monitoring: 'read' } }),
  api('getAlertRule', 'monitoring', getAlertRuleRoute, { tables: { monitoring: 'read' } }),
  api('updateAlertRule', 'monitoring', updateAlertRuleRoute, { tables: { monitoring: 'readWrite' }, alertSecrets: 'manage', alertTopics: 'subscribe' }),
  api('deleteAlertRule', 'monitoring', deleteAlertRuleRoute, { tables: { monitoring: 'readWrite' }, alertSecrets: 'manage' }, { timeoutSeconds: 29 }),
  api('listAlertEvents', 'monitoring', listAlertEventsRoute, { tables: { monitoring: 'read' } }),
  fn('evaluateAlerts', 'monitoring', 'functions/monitoring/evaluateAlerts.ts', "Evaluates anomaly, drift and pipeline events against the tenant's alert rules (indexed by subject), queues the notifications",
    { kind: 'event', detailTypes: evaluatedDetailTypes }, { tables: { monitoring: 'readWrite' }, queues: { alertDeliveries: 'send' }, bus: true }, { memoryMb: 512, timeoutSeconds: 30 }),
  // The time-based conditions read the sensors' recent readings through the readings store (read only).
  fn('evaluateScheduledAlerts', 'monitoring', 'functions/monitoring/evaluateScheduledAlerts.ts', 'Every minute: silence, readings beyond a limit for N minutes and predicted crossings (forecast) of every tenant',
    { kind: 'schedule', everyMinutes: 1 }, { tables: { monitoring: 'readWrite', readings: 'read', sensors: 'read' }, queues: { alertDeliveries: 'send' }, bus: true }, { memoryMb: 1024, timeoutSeconds: 55 }),
  // The drift check of deployed models: every tenant's deployments (a Scan of the mlops registry table, one item per
  // deployed group), each version's manifest (its training reference), the group's recent readings through the readings
  // store and the first sensor's sampling interval, all read only, as evaluateScheduledAlerts reads them; it keeps its
  // drift states in the monitoring table and publishes drift.detected / drift.resolved.
  fn('checkModelDrift', 'monitoring', 'functions/monitoring/checkModelDrift.ts', "Every 5 minutes: each deployed model's recent readings against its training reference (KS, PSI); drift.detected once per drift episode",
    { kind: 'schedule', everyMinutes: 5 },
    { tables: { monitoring: 'readWrite', registry: 'scanAll', readings: 'read', sensors: 'read' }, buckets: { models: [grant(['read'], modelKey.manifest)] }, bus: true },
    { memoryMb: 1024, timeoutSeconds: 240 }),
  // Sends alertDeliveries only to set its own messages' visibility (the backoff): the event source grants that, the binding gives the URL.
  fn('deliverAlerts', 'monitoring', 'functions/monitoring/deliverAlerts.ts', 'Delivers alert notifications: signed webhooks, email and SMS through the tenant SNS topic; retries with backoff, then the DLQ',
    { kind: 'queue', queue: 'alertDeliveries', batchSize: 10, maxBatchingWindowSeconds: 0 }, { tables: { monitoring: 'readWrite' }, queues: { alertDeliveries: 'send' }, bus: true, alertSecrets: 'read', alertTopics: 'publish' }, { memoryMb: 256, timeoutSeconds: 30 }),
];

export const httpFunctions = () =>
  catalog.flatMap((f) => (f.trigger.kind === 'http' ? [{ fn: f, route: f.trigger.route }] : []));

/** Functions run on a schedule. */
export const scheduledFunctions = () =>
  catalog.flatMap((f) => (f.trigger.kind === 'schedule' ? [{ fn: f, schedule: f.trigger }] : []));

/** Functions started by an EventBridge rule on the bus. */
export const eventFunctions = () =>
  catalog.flatMap((f) => (f.trigger.kind === 'event' ? [{ fn: f, rule: f.trigger }] : []));
