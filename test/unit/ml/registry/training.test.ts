import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { createGaussian, createRng } from '../../../../shared/ml/multivariate/rng.js';
import { createOnnxScorer } from '../../../../shared/ml/onnx/scorer.js';
import { modelKeys, newTraining, storedManifestSchema, type NewTraining } from '../../../../shared/ml/registry/model.js';
import {
  discardStaging,
  evaluateModel,
  failureCause,
  fitModel,
  recordTrainingFailure,
  registerModel,
  startTraining,
  trainingRunOf,
  unregisterModel,
} from '../../../../shared/ml/registry/training.js';
import { defaultDetectorName, defaultDetectorOptions, withDefaultOptions } from '../../../../shared/ml/detectors.js';
import { trainingRowCount } from '../../../../shared/ml/registry/trainingData.js';
import { trainingSaga, trainingState, type TrainingRun, type TrainingState } from '../../../../shared/ml/registry/trainingPipeline.js';
import { ConflictError, DependencyError, NotFoundError, UnprocessableError } from '../../../../shared/platform/errors.js';
import { sagaDefinition } from '../../../../shared/platform/saga.js';
import { memoryArtifacts, memoryDatasets, memoryModels, readyDataset, recordingEvents, recordingStarter } from './fakes.js';

/** A processed CSV as the preprocess step writes it: time, three sensors, a 0/1 label with two anomaly windows late in the file. */
function processedCsv(rows = 600): string {
  const g = createGaussian(createRng(3));
  const lines = ['time,a,b,c,anomaly'];
  for (let r = 0; r < rows; r++) {
    const a = g();
    const faulty = (r >= 420 && r < 440) || (r >= 520 && r < 540);
    const b = 0.8 * a + 0.2 * g() + (faulty ? 4 : 0);
    const c = 0.5 * g();
    lines.push(`${new Date(Date.UTC(2026, 0, 1) + r * 60_000).toISOString()},${a.toFixed(5)},${b.toFixed(5)},${c.toFixed(5)},${faulty ? 1 : 0}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A file's bytes as the S3 adapter streams them. */
const bytesOf = (text: string) => (async function* () {
  yield new TextEncoder().encode(text);
})();

const request = (over: Partial<NewTraining> = {}): NewTraining => newTraining.parse({ modelId: 'pump-model', datasetId: 'plant-1', detector: 'pca', trainFraction: 0.5, ...over });

async function started(over: Partial<NewTraining> = {}) {
  const models = memoryModels();
  const starter = recordingStarter();
  const model = await startTraining({ models, datasets: memoryDatasets([readyDataset()]), starter }, 'acme', request(over), new Date('2026-02-01T00:00:00Z'));
  const csv = processedCsv();
  const artifacts = memoryArtifacts();
  const deps = { models, artifacts, datasetObjects: { read: async () => bytesOf(csv) }, loadScorer: createOnnxScorer };
  return { models, starter, model, artifacts, deps, run: trainingRunOf('acme', model) };
}

describe('POST /ml/train: starting a run', () => {
  it('refuses a dataset that is not READY or FAILED (409, as detect and evaluate) or unknown (404), and writes nothing', async () => {
    const models = memoryModels();
    const starter = recordingStarter();
    const deps = (status: 'PREPROCESSING' | 'FAILED') => ({ models, starter, datasets: memoryDatasets([readyDataset({ status })]) });

    await expect(startTraining(deps('PREPROCESSING'), 'acme', request())).rejects.toBeInstanceOf(ConflictError);
    await expect(startTraining(deps('FAILED'), 'acme', request())).rejects.toBeInstanceOf(ConflictError);
    await expect(startTraining(deps('PREPROCESSING'), 'acme', request({ datasetId: 'nope' }))).rejects.toBeInstanceOf(NotFoundError);
    expect(models.items.size).toBe(0);
    expect(starter.calls).toHaveLength(0);
  });

  it('stores the model TRAINING with its lineage and starts one deterministic run; a retry starts the same run', async () => {
    const { models, starter, model } = await started();
    await startTraining({ models, starter, datasets: memoryDatasets([readyDataset()]) }, 'acme', request());

    expect(model).toMatchObject({ id: 'pump-model', version: 1, status: 'TRAINING', detector: 'pca', lineage: { datasetId: 'plant-1', columns: { timestampColumn: 'time', features: ['a', 'b', 'c'], labelColumn: 'anomaly' } } });
    expect(starter.calls).toHaveLength(2);
    expect(starter.calls[0].name).toBe(model.jobId);
    expect(starter.calls[1]).toEqual(starter.calls[0]);
    expect(models.items.size).toBe(1);
  });

  it('answers 409 when the model id was taken by a different request', async () => {
    const { models, starter } = await started();
    await expect(startTraining({ models, starter, datasets: memoryDatasets([readyDataset()]) }, 'acme', request({ detector: 'autoencoder' }))).rejects.toBeInstanceOf(ConflictError);
    expect(starter.calls).toHaveLength(1);
  });

  it('rejects trainRows together with trainFraction, unknown parameters and duplicate features', () => {
    expect(newTraining.safeParse({ datasetId: 'd', detector: 'pca', trainRows: 100, trainFraction: 0.5 }).success).toBe(false);
    expect(newTraining.safeParse({ datasetId: 'd', detector: 'pca', parameters: { epochs: 3 } }).success).toBe(false);
    expect(newTraining.safeParse({ datasetId: 'd', detector: 'pca', features: ['a', 'a'] }).success).toBe(false);
    expect(newTraining.safeParse({ datasetId: 'd', detector: 'lstm' }).success).toBe(false);
  });
});

describe('labels and data quality', () => {
  const startOn = (dataset: ReturnType<typeof readyDataset>, over: Partial<NewTraining> = {}) => {
    const models = memoryModels();
    const starter = recordingStarter();
    return { models, starter, start: () => startTraining({ models, starter, datasets: memoryDatasets([dataset]) }, 'acme', request(over)) };
  };

  it('refuses a dataset whose quality verdict is not-trainable with 422 and the reason, and starts nothing', async () => {
    const { models, starter, start } = startOn(readyDataset({ quality: { errors: 2, warnings: 0, infos: 0, checks: ['insufficient-data', 'missing-values'] } }));
    const error = await start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnprocessableError);
    expect((error as UnprocessableError).message).toMatch(/is not trainable: its quality report finds 2 error\(s\) \(insufficient-data, missing-values\)/);
    expect((error as UnprocessableError).details).toMatchObject({ code: 'not_trainable' });
    expect(models.items.size).toBe(0);
    expect(starter.calls).toHaveLength(0);
    // Warnings alone do not stop training.
    await expect(startOn(readyDataset({ quality: { errors: 0, warnings: 3, infos: 1, checks: ['level-shift'] } })).start()).resolves.toMatchObject({ status: 'TRAINING' });
  });

  it('never takes a label column as a feature: left out of the defaults, refused when named', async () => {
    const schema = { timestampColumn: 'time', sensorColumns: [{ name: 'a' }, { name: 'b' }, { name: 'changepoint' }], labelColumn: 'anomaly' };
    const { start } = startOn(readyDataset({ schema }));
    expect((await start()).lineage).toMatchObject({ columns: { features: ['a', 'b'], labelColumn: 'anomaly' } });

    for (const features of [['a', 'anomaly'], ['a', 'changepoint']]) {
      const { models, start: named } = startOn(readyDataset({ schema }), { features });
      await expect(named()).rejects.toThrow(/is a label column; labels are never features/);
      expect(models.items.size).toBe(0);
    }
  });

  it('ends the default training part before the first labelled anomaly (when that leaves enough rows); an explicit split wins', () => {
    const labels = (first: number, n = 1000) => Float64Array.from({ length: n }, (_, i) => (i >= first && i < first + 50 ? 1 : 0));
    expect(trainingRowCount(1000, {}, labels(500))).toBe(500);
    expect(trainingRowCount(1000, {}, labels(900))).toBe(700);
    expect(trainingRowCount(1000, {}, labels(100))).toBe(700); // too early: 70%, the anomalies left out of the fit
    expect(trainingRowCount(1000, {}, null)).toBe(700);
    expect(trainingRowCount(1000, { trainFraction: 0.8 }, labels(500))).toBe(800);
    expect(trainingRowCount(1000, { trainRows: 600 }, labels(500))).toBe(600);
  });

  it('fit leaves the training rows labelled anomalous out and says how many', async () => {
    const { deps, run, models } = await started({ trainFraction: 0.8 });
    await fitModel(deps, run);
    // 480 training rows, of which rows 420-439 are labelled anomalous.
    expect((await models.get('acme', 'pump-model'))?.training).toMatchObject({ splitAt: 480, labelledAnomaliesLeftOut: 20, rows: 460 });
  });

  it("fit also leaves out the rows inside anomalies operators confirmed on the model's sensors, by time, and says how many; rejected and other sensors' verdicts change nothing", async () => {
    const { deps, run, models } = await started({ trainFraction: 0.8 });
    const minute = (r: number) => new Date(Date.UTC(2026, 0, 1) + r * 60_000).toISOString();
    const verdict = (episodeId: string, sensorIds: string[], from: number, to: number, v: 'confirmed' | 'rejected') => ({ episodeId, sensorIds, start: minute(from), end: minute(to), verdict: v, at: minute(1000) });
    const kept = [
      // 30 rows (100 to 129), on sensor b.
      verdict('ep-1', ['b'], 100, 129, 'confirmed'),
      // Overlaps the dataset's own labels at 420-439: rows 410-419 are new, 420-430 were left out already.
      verdict('ep-2', ['a', 'c'], 410, 430, 'confirmed'),
      verdict('ep-3', ['b'], 200, 260, 'rejected'),
      verdict('ep-4', ['other-sensor'], 300, 350, 'confirmed'),
    ];
    const labelsOf: string[] = [];
    await fitModel({ ...deps, verdicts: { list: async (tenant) => (labelsOf.push(tenant), kept) } }, run);
    expect(labelsOf).toEqual(['acme']);
    expect((await models.get('acme', 'pump-model'))?.training).toMatchObject({ splitAt: 480, labelledAnomaliesLeftOut: 20, confirmedAnomaliesLeftOut: 40, rows: 420 });
  });
});

describe('training steps', () => {
  it('fit writes the ONNX model and manifest (with the drift reference) to the staging keys only', async () => {
    const { deps, run, models } = await started();
    const out = await fitModel(deps, run);
    const keys = modelKeys('acme', 'pump-model', 1);

    expect([...deps.artifacts.objects.keys()].sort()).toEqual([keys.stagingManifest, keys.stagingModel].sort());
    expect(keys.stagingModel).toBe('staging/acme/pump-model/1/model.onnx');
    const manifest = storedManifestSchema.parse(JSON.parse(new TextDecoder().decode(deps.artifacts.objects.get(keys.stagingManifest))));
    expect(manifest.features).toEqual(['a', 'b', 'c']);
    expect(manifest.reference?.features.map((f) => f.name)).toEqual(['a', 'b', 'c']);
    expect(out).toMatchObject({ trainRows: 300, usableRows: 600 });
    expect((await models.get('acme', 'pump-model'))).toMatchObject({ status: 'EVALUATING', features: ['a', 'b', 'c'], staging: { modelKey: keys.stagingModel } });
  });

  it('a retried fit overwrites the same keys, and the record describes the bytes that are there', async () => {
    const { deps, run, models } = await started();
    await fitModel(deps, run);
    const keys = [...deps.artifacts.objects.keys()];
    const again = await fitModel(deps, run);
    const record = await models.get('acme', 'pump-model');

    expect([...deps.artifacts.objects.keys()]).toEqual(keys);
    expect(record?.status).toBe('EVALUATING');
    expect(record?.staging?.sha256).toBe(again.sha256);
    expect(deps.artifacts.objects.get(modelKeys('acme', 'pump-model', 1).stagingModel)?.length).toBe(again.bytes);
  });

  it('evaluate scores the labelled hold-out with the staged ONNX model and stores the metrics', async () => {
    const { deps, run, models } = await started();
    const fit = await fitModel(deps, run);
    const { metrics } = await evaluateModel(deps, { ...run, steps: { fit: { output: fit } } });

    expect(metrics).toMatchObject({ evaluatedOn: 'holdout', rows: 300 });
    expect(metrics.labelled?.anomalies).toBe(40);
    expect(metrics.labelled?.recall).toBeGreaterThan(0.8);
    expect(metrics.labelled?.rocAuc).toBeGreaterThan(0.9);
    expect((await models.get('acme', 'pump-model'))).toMatchObject({ status: 'REGISTERING', metrics: { rows: 300 } });
  });

  it('register copies staging to the version key, deletes staging, marks READY and publishes model.registered', async () => {
    const { deps, run, models } = await started();
    const state = await fitAndEvaluate(deps, run);
    const events = recordingEvents();
    await registerModel({ ...deps, events }, state);
    const keys = modelKeys('acme', 'pump-model', 1);

    expect([...deps.artifacts.objects.keys()].sort()).toEqual([keys.manifest, keys.model]);
    expect(keys.model).toBe('models/acme/pump-model/1/model.onnx');
    const record = await models.get('acme', 'pump-model');
    expect(record).toMatchObject({ status: 'READY', artifact: { modelKey: keys.model, manifestKey: keys.manifest } });
    expect(record?.staging).toBeUndefined();
    expect(events.published).toEqual([expect.objectContaining({ type: 'model.registered', detail: expect.objectContaining({ modelId: 'pump-model', version: 1 }) })]);
    const manifest = storedManifestSchema.parse(JSON.parse(new TextDecoder().decode(deps.artifacts.objects.get(keys.manifest))));
    expect(manifest.metrics?.rows).toBe(300);
  });

  it('compensations delete exactly what their step wrote and restore the record, and never undo a committed registration', async () => {
    const { deps, run, models } = await started();
    const state = await fitAndEvaluate(deps, run);
    await registerModel({ ...deps, events: recordingEvents() }, state);
    const keys = modelKeys('acme', 'pump-model', 1);

    // READY is the commit: the compensation leaves the model and its objects alone.
    await unregisterModel(deps, state);
    expect(await models.get('acme', 'pump-model')).toMatchObject({ status: 'READY', artifact: { modelKey: keys.model } });
    expect([...deps.artifacts.objects.keys()].sort()).toEqual([keys.manifest, keys.model]);

    // Before the commit (the step failed after writing the version objects), it deletes them.
    await models.update('acme', 'pump-model', { status: 'REGISTERING' }, { jobId: run.jobId }, ['artifact']);
    await unregisterModel(deps, state);
    expect(deps.artifacts.removed.at(-1)).toEqual([keys.model, keys.manifest]);
    expect(await models.get('acme', 'pump-model')).toMatchObject({ status: 'REGISTERING' });
    expect((await models.get('acme', 'pump-model'))?.artifact).toBeUndefined();

    await discardStaging(deps, state);
    expect(deps.artifacts.removed.at(-1)).toEqual([keys.stagingModel, keys.stagingManifest]);
    expect(deps.artifacts.objects.size).toBe(0);
  });

  it('fails the step with a clear cause on a feature the processed data lacks; a feature that sat flat trains', async () => {
    const { deps, run } = await started();
    await expect(fitModel(deps, { ...run, columns: { ...run.columns, features: ['a', 'zz'] } })).rejects.toThrow(/"zz" is not in the file/);
    const flat = 'time,a,b\n' + Array.from({ length: 50 }, (_, i) => `2026-01-01T00:${String(i).padStart(2, '0')}:00Z,1,${i % 7}`).join('\n');
    const flatDeps = { ...deps, datasetObjects: { read: async () => bytesOf(flat) } };
    await expect(fitModel(flatDeps, { ...run, columns: { timestampColumn: 'time', features: ['a', 'b'] } })).resolves.toMatchObject({ usableRows: 50 });
  });

  it('a request with no detector and no parameters trains the default detector with the default options', async () => {
    const { deps, run } = await started({ detector: undefined });
    expect(run.detector).toBe(defaultDetectorName);
    expect(run.parameters.tail).toBe(defaultDetectorOptions.tail);
    await fitModel(deps, run);
    const manifest = storedManifestSchema.parse(JSON.parse(new TextDecoder().decode(deps.artifacts.objects.get(modelKeys('acme', 'pump-model', 1).stagingManifest))));
    const defaults = withDefaultOptions({});
    expect(manifest.detector).toBe(defaults.detector);
    expect(manifest.inputWindow).toBe(defaults.inputWindow ?? 1);
    expect(manifest.scoreWindow).toBe(defaults.scoreWindow ?? 1);
    expect(manifest.calibration.falseAlarmRate).toBe(defaults.targetFalseAlarmRate);
    expect(manifest.calibration.tailShape ?? 0).toBeGreaterThanOrEqual(0);
  });

  it('the failure function marks FAILED with the step and the cause users can act on', async () => {
    const { models, run } = await started();
    const events = recordingEvents();
    const cause = JSON.stringify({ errorType: 'UnprocessableError', errorMessage: 'The processed dataset has no column "zz".' });
    await recordTrainingFailure({ models, events }, { ...run, failedStep: 'fit', error: { Error: 'UnprocessableError', Cause: cause } }, new Date('2026-02-01T00:05:00Z'));

    expect(await models.get('acme', 'pump-model')).toMatchObject({ status: 'FAILED', failure: { step: 'fit', cause: 'The processed dataset has no column "zz".' } });
    expect(events.published[0]).toMatchObject({ type: 'pipeline.failed', detail: { pipeline: 'training', step: 'fit' } });
    expect(failureCause({ ...run, failedStep: 'evaluate', error: { Error: 'TypeError', Cause: JSON.stringify({ errorType: 'TypeError', errorMessage: 'x is undefined at /var/task' }) } })).not.toContain('/var/task');
  });

  it("carries POST /ml/train's correlation id on the model, the execution's input and pipeline.failed; a retry keeps the first one", async () => {
    const models = memoryModels();
    const starter = recordingStarter();
    const deps = { models, datasets: memoryDatasets([readyDataset()]), starter };
    const model = await startTraining(deps, 'acme', request(), new Date('2026-02-01T00:00:00Z'), 'train-req-1');
    await startTraining(deps, 'acme', request(), new Date('2026-02-01T00:00:01Z'), 'train-req-2');
    expect(model.correlationId).toBe('train-req-1');
    expect(starter.calls.map((c) => (c.input as { correlationId?: string }).correlationId)).toEqual(['train-req-1', 'train-req-1']);
    const events = recordingEvents();
    await recordTrainingFailure({ models, events }, { ...trainingRunOf('acme', model), failedStep: 'fit' });
    expect(events.published[0]).toMatchObject({ type: 'pipeline.failed', detail: { pipeline: 'training', correlationId: 'train-req-1' } });
  });
});

async function fitAndEvaluate(deps: Parameters<typeof evaluateModel>[0], run: TrainingRun): Promise<TrainingState> {
  const fit = await fitModel(deps, run);
  const evaluate = await evaluateModel(deps, { ...run, steps: { fit: { output: fit } } });
  return { ...run, steps: { fit: { output: fit }, evaluate: { output: evaluate } } };
}

describe('the training saga (the ASL that Step Functions runs)', () => {
  type Fault = 'none' | 'publish fails once' | 'publish always fails' | 'copy fails';
  async function runSaga(fault: Fault) {
    const { deps, run, models } = await started();
    let publishes = 0;
    const published = recordingEvents();
    // After the commit: EventBridge refuses (a DependencyError, which the saga retries), once or every time.
    const events = {
      ...published,
      async publish(type: Parameters<typeof published.publish>[0], detail: Record<string, unknown>) {
        publishes++;
        if (fault === 'publish always fails' || (fault === 'publish fails once' && publishes === 1)) throw new DependencyError('EventBridge refused the model.registered event.');
        return published.publish(type, detail);
      },
    };
    // Before the commit: the copy to the version key fails.
    const artifacts = fault === 'copy fails' ? { ...deps.artifacts, copy: async () => Promise.reject(new Error('S3 copy failed')) } : deps.artifacts;
    const failureEvents = recordingEvents();
    const payload = (input: unknown) => (input as { Payload: unknown }).Payload;
    const state = (input: unknown) => trainingState.parse(payload(input));
    const task = (work: (input: unknown) => Promise<unknown>) => async (input: unknown) => ({ Payload: (await work(input)) ?? null });
    const machine = new StateMachine(sagaDefinition(trainingSaga) as unknown as StateMachineDefinition, { validationOptions: { checkArn: false, checkPaths: true } });
    const handlers = {
      fit: task((i) => fitModel(deps, state(i))),
      evaluate: task((i) => evaluateModel(deps, state(i))),
      register: task((i) => registerModel({ ...deps, artifacts, events }, state(i))),
      'Undo fit': task((i) => discardStaging(deps, trainingState.parse((payload(i) as { input: unknown }).input))),
      'Undo register': task((i) => unregisterModel(deps, trainingState.parse((payload(i) as { input: unknown }).input))),
      'Record failure': task((i) => {
        const p = payload(i) as TrainingState & { failedStep: string; error?: { Error?: string; Cause?: string } };
        return recordTrainingFailure({ models, events: failureEvents }, { ...trainingState.parse(p), failedStep: p.failedStep, error: p.error });
      }),
    };
    const execution = machine.run(run as never, { overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides: { register: 0 } } });
    const outcome = await execution.result.then(() => 'succeeded', () => 'failed');
    return { outcome, artifacts: deps.artifacts, record: await models.get('acme', 'pump-model'), published: published.published, failureEvents, publishes };
  }
  const versionObjects = ['models/acme/pump-model/1/manifest.json', 'models/acme/pump-model/1/model.onnx'];

  it('runs fit, evaluate and register to a READY model with its version objects only', async () => {
    const { outcome, artifacts, record } = await runSaga('none');
    expect(outcome).toBe('succeeded');
    expect(record?.status).toBe('READY');
    expect([...artifacts.objects.keys()].sort()).toEqual(versionObjects);
  });

  it('a register step retried after its commit (the event publish failed once) succeeds: READY, the artifact kept, the event published', async () => {
    const { outcome, artifacts, record, published, publishes, failureEvents } = await runSaga('publish fails once');
    expect(outcome).toBe('succeeded');
    expect(record).toMatchObject({ status: 'READY', artifact: { modelKey: 'models/acme/pump-model/1/model.onnx' } });
    expect([...artifacts.objects.keys()].sort()).toEqual(versionObjects);
    expect(publishes).toBe(2);
    expect(published).toEqual([expect.objectContaining({ type: 'model.registered', detail: expect.objectContaining({ modelId: 'pump-model', version: 1 }) })]);
    expect(failureEvents.published).toHaveLength(0);
  });

  it('when the compensation is reached after the commit (the publish never succeeds), the READY model and its artifact stay', async () => {
    const { outcome, artifacts, record, failureEvents } = await runSaga('publish always fails');
    expect(outcome).toBe('failed');
    expect(record).toMatchObject({ status: 'READY', artifact: { modelKey: 'models/acme/pump-model/1/model.onnx' } });
    expect([...artifacts.objects.keys()].sort()).toEqual(versionObjects);
    expect(failureEvents.published).toHaveLength(0);
  });

  it('a registration that fails before its commit leaves no artifact at all and a FAILED model naming the step and cause', async () => {
    const { outcome, artifacts, record, failureEvents } = await runSaga('copy fails');
    expect(outcome).toBe('failed');
    expect(artifacts.objects.size).toBe(0);
    expect(record).toMatchObject({ status: 'FAILED', failure: { step: 'register' } });
    expect(record?.artifact).toBeUndefined();
    expect(failureEvents.published).toHaveLength(1);
  });
});
