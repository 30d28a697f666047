import { registerDatasetRoute, listDatasetsRoute, getDatasetRoute } from './data/registry/contract.js';
import { preprocessDataRoute, qualityReportRoute, validateDataRoute } from './data/api/contract.js';
import { datasetPipeline } from './data/pipeline/datasetPipeline.js';
import type { RouteContract } from './http/route.js';
import { deployModelRoute, getDeploymentRoute } from './mlops/contract.js';
import { healthRoute } from './monitoring/contract.js';
import { openApiRoute } from './gateway/contract.js';
import { detectRoute, driftRoute, evaluateRoute, forecastRoute } from './ml/api/contract.js';
import { getModelRoute, listModelsRoute, listModelVersionsRoute, predictRoute, registerModelVersionRoute, trainModelRoute } from './ml/registry/contract.js';
import { trainingFunctionNames as training, trainingSaga } from './ml/registry/trainingPipeline.js';
import type { BoundedContext, BucketName, QueueName, TableName } from './platform/resources.js';
import type { SagaDefinition } from './platform/saga.js';
import { getAnomalyRoute, listAnomaliesRoute, reviewAnomalyRoute } from './sensors/anomalyContract.js';
import { getSensorRoute, listSensorsRoute, registerSensorRoute } from './sensors/contract.js';

export type Access = 'read' | 'write' | 'readWrite';

/** What a function is allowed to touch. The CDK turns each entry into an env var plus a least-privilege grant. */
export interface Bindings {
  tables?: Partial<Record<TableName, Access>>;
  buckets?: Partial<Record<BucketName, Access>>;
  queues?: Partial<Record<QueueName, 'send'>>;
  /** Put events on the bus. */
  bus?: boolean;
  /** Start executions of these state machines. */
  stateMachines?: Partial<Record<WorkflowName, 'start'>>;
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
  | { kind: 'cognito'; operation: 'preTokenGeneration' };

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
const datasetStep = { tables: { datasets: 'readWrite' }, buckets: { datasets: 'readWrite' } } as const satisfies Bindings;
const modelStep = { tables: { models: 'readWrite' }, buckets: { models: 'readWrite' } } as const satisfies Bindings;

/**
 * Every function of Telltale, declared once. The CDK stacks and the embedded local cloud both
 * walk this list; nobody wires a function by hand.
 */
export const catalog: readonly FunctionDeclaration[] = [
  api('health', 'monitoring', healthRoute, { tables: { sensors: 'read' }, buckets: { datasets: 'read' } }, { memoryMb: 256 }),
  api('openApiDocument', 'gateway', openApiRoute, {}, { memoryMb: 256 }),
  api('registerSensor', 'sensors', registerSensorRoute, { tables: { sensors: 'write' } }),
  api('listSensors', 'sensors', listSensorsRoute, { tables: { sensors: 'read' } }),
  api('getSensor', 'sensors', getSensorRoute, { tables: { sensors: 'read' } }),
  // data: datasets, inline checks, the quality report, and the pipeline's steps
  api('registerDataset', 'data', registerDatasetRoute, { tables: { datasets: 'write', sensors: 'read' }, buckets: { datasets: 'write' } }),
  api('listDatasets', 'data', listDatasetsRoute, { tables: { datasets: 'read' } }),
  api('getDataset', 'data', getDatasetRoute, { tables: { datasets: 'read' } }),
  api('validateData', 'data', validateDataRoute, {}, { memoryMb: 1024, timeoutSeconds: 29 }),
  api('preprocessData', 'data', preprocessDataRoute, {}, { memoryMb: 1024, timeoutSeconds: 29 }),
  api('getQualityReport', 'data', qualityReportRoute, { tables: { datasets: 'read' }, buckets: { datasets: 'read' } }),
  fn('startDatasetPipeline', 'data', 'functions/data/startDatasetPipeline.ts', 'Starts the dataset pipeline when a file lands under raw/ (one run per object version)',
    { kind: 'objectCreated', bucket: 'datasets', keyPattern: 'datasets/*/*/raw/*' }, { tables: { datasets: 'read' }, stateMachines: { datasetPipeline: 'start' } }, { memoryMb: 256, timeoutSeconds: 30 }),
  fn('planDatasetStep', 'data', 'functions/data/planDatasetStep.ts', 'Pipeline step: record the run; plan byte-range chunks for a Distributed Map when the file is large', task, { ...datasetStep, tables: { datasets: 'readWrite', sensors: 'read' } }, { memoryMb: 512, timeoutSeconds: 120 }),
  fn('processDatasetChunk', 'data', 'functions/data/processDatasetChunk.ts', 'Distributed Map item: validate, profile and preprocess one chunk of a large file, to work/', task, { buckets: { datasets: 'readWrite' } }, { memoryMb: 1769, timeoutSeconds: 900 }),
  fn('validateDatasetStep', 'data', 'functions/data/validateDatasetStep.ts', 'Pipeline step: validate the raw file (streamed), write the validation report', task, { ...datasetStep, tables: { datasets: 'readWrite', sensors: 'read' } }, { memoryMb: 1024, timeoutSeconds: 900 }),
  fn('preprocessDatasetStep', 'data', 'functions/data/preprocessDatasetStep.ts', 'Pipeline step: sort, de-duplicate, resample, impute; stream to processed/', task, datasetStep, { memoryMb: 1024, timeoutSeconds: 900 }),
  fn('profileDatasetStep', 'data', 'functions/data/profileDatasetStep.ts', 'Pipeline step: the quality report, to reports/', task, datasetStep, { memoryMb: 1024, timeoutSeconds: 900 }),
  fn('publishDatasetStep', 'data', 'functions/data/publishDatasetStep.ts', 'Pipeline step: mark READY and publish data.processed', task, { tables: { datasets: 'readWrite' }, bus: true }, { memoryMb: 256 }),
  fn('undoDatasetStep', 'data', 'functions/data/undoDatasetStep.ts', 'Compensation of the pipeline steps: remove what the failed run wrote', task, datasetStep, { memoryMb: 256 }),
  fn('failDatasetPipeline', 'data', 'functions/data/failDatasetPipeline.ts', 'Pipeline failure: mark the dataset FAILED with step and cause, publish pipeline.failed', task, { tables: { datasets: 'readWrite' }, bus: true }, { memoryMb: 256 }),
  fn('issueTenantClaim', 'gateway', 'functions/gateway/issueTenantClaim.ts', 'Adds the tenant claim to access tokens (users: custom:tenant; app clients: the tenants table)',
    { kind: 'cognito', operation: 'preTokenGeneration' }, { tables: { tenants: 'read' } }, { memoryMb: 256, timeoutSeconds: 5 }),
  // ml: training (POST /ml/train starts the trainingPipeline saga of shared/ml/registry/trainingPipeline.ts), models, predict.
  // Functions that load onnxruntime run on x86_64 (crash reports on arm64 Lambda) with the models layer.
  api('trainModel', 'ml', trainModelRoute, { tables: { models: 'readWrite', datasets: 'read' }, stateMachines: { trainingPipeline: 'start' } }),
  api('listModels', 'ml', listModelsRoute, { tables: { models: 'read' } }),
  api('getModel', 'ml', getModelRoute, { tables: { models: 'read' } }),
  api('predict', 'ml', predictRoute, { tables: { models: 'read', registry: 'read' }, buckets: { models: 'read' } }, { architecture: 'x86_64', memoryMb: 1024, timeoutSeconds: 15, usesModelsLayer: true }),
  fn(training.fit, 'ml', 'functions/ml/trainingSteps/fit.ts', 'Training step: fit a detector on the processed dataset, export ONNX and manifest to staging', task,
    { ...modelStep, buckets: { datasets: 'read', models: 'readWrite' } }, { memoryMb: 3008, timeoutSeconds: 900, architecture: 'x86_64', usesModelsLayer: true }),
  fn(training.evaluate, 'ml', 'functions/ml/trainingSteps/evaluate.ts', 'Training step: score the hold-out with the staged ONNX model and store the metrics', task,
    { ...modelStep, buckets: { datasets: 'read', models: 'readWrite' } }, { memoryMb: 3008, timeoutSeconds: 900, architecture: 'x86_64', usesModelsLayer: true }),
  fn(training.register, 'ml', 'functions/ml/trainingSteps/register.ts', 'Training step: copy the staged model to its version key, mark it READY, publish model.registered', task, { ...modelStep, bus: true }),
  fn(training.discardStaging, 'ml', 'functions/ml/trainingSteps/discardStaging.ts', 'Compensation of the fit step: delete the staged model and manifest', task, modelStep, { memoryMb: 256 }),
  fn(training.unregister, 'ml', 'functions/ml/trainingSteps/unregister.ts', 'Compensation of the register step: delete the version objects and restore the record', task, modelStep, { memoryMb: 256 }),
  fn(training.recordFailure, 'ml', 'functions/ml/trainingSteps/recordFailure.ts', 'Training failure: mark the model FAILED with the step and cause, publish pipeline.failed', task, { tables: { models: 'readWrite' }, bus: true }, { memoryMb: 256 }),
  // ml: inline computations (no stored data, no onnxruntime). CPU-bound, so detect gets a full vCPU (1769 MB) and stays under HTTP API's 30 s.
  api('detectAnomalies', 'ml', detectRoute, { tables: { datasets: 'read' }, buckets: { datasets: 'read' } }, { memoryMb: 1769, timeoutSeconds: 29 }),
  api('forecastSeries', 'ml', forecastRoute, {}, { memoryMb: 1769, timeoutSeconds: 29 }),
  api('detectDrift', 'ml', driftRoute, {}, { memoryMb: 1024, timeoutSeconds: 29 }),
  // evaluate scores a stored model on a stored dataset (as predict) and stores the result with the model.
  api('evaluateDetections', 'ml', evaluateRoute, { tables: { datasets: 'read', models: 'readWrite' }, buckets: { datasets: 'read', models: 'readWrite' } }, { architecture: 'x86_64', memoryMb: 1769, timeoutSeconds: 29, usesModelsLayer: true }),
  // mlops: models brought by their owners. Registering loads the model in onnxruntime to check it.
  api('registerModel', 'mlops', registerModelVersionRoute, { tables: { models: 'readWrite' }, buckets: { models: 'write' } }, { architecture: 'x86_64', memoryMb: 1769, timeoutSeconds: 29, usesModelsLayer: true }),
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
    { kind: 'queue', queue: 'scoring', batchSize: 10, maxBatchingWindowSeconds: 0 }, { tables: { sensors: 'read', anomalies: 'readWrite', readings: 'readWrite', datasets: 'read' }, buckets: { datasets: 'read' }, bus: true }, { memoryMb: 1024, timeoutSeconds: 60 }),
  api('listAnomalies', 'sensors', listAnomaliesRoute, { tables: { anomalies: 'read' } }),
  api('getAnomaly', 'sensors', getAnomalyRoute, { tables: { anomalies: 'read' } }),
  api('reviewAnomaly', 'sensors', reviewAnomalyRoute, { tables: { anomalies: 'readWrite' } }),
];

export const httpFunctions = () =>
  catalog.flatMap((f) => (f.trigger.kind === 'http' ? [{ fn: f, route: f.trigger.route }] : []));

/** Functions started by an EventBridge rule on the bus. */
export const eventFunctions = () =>
  catalog.flatMap((f) => (f.trigger.kind === 'event' ? [{ fn: f, rule: f.trigger }] : []));
