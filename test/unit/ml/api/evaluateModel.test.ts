import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../../../../shared/data/registry/dataset.js';
import type { DatasetObjects, DatasetRepository } from '../../../../shared/data/registry/datasetRepository.js';
import { evaluateRequest, MAX_EVALUATION_ROWS, type ModelEvaluateRequest, type ModelEvaluation } from '../../../../shared/ml/api/contract.js';
import { evaluationMetrics } from '../../../../shared/ml/api/evaluate.js';
import { evaluateModelOnDataset, type EvaluateModelDeps } from '../../../../shared/ml/api/evaluateModel.js';
import { fitDetector } from '../../../../shared/ml/multivariate/detector.js';
import { exportDetectorToOnnx } from '../../../../shared/ml/onnx/export.js';
import { inspectOnnxModel } from '../../../../shared/ml/onnx/inspect.js';
import { createSignatureScorer } from '../../../../shared/ml/registry/byoScorer.js';
import { evaluationId } from '../../../../shared/ml/registry/evaluation.js';
import { modelKeys, type ModelRecord } from '../../../../shared/ml/registry/model.js';
import { modelLoader } from '../../../../shared/ml/registry/modelLoader.js';
import { predict } from '../../../../shared/ml/registry/prediction.js';
import { registerModelVersion } from '../../../../shared/ml/registry/registration.js';
import { ConflictError, NotFoundError, UnprocessableError, type TelltaleError } from '../../../../shared/platform/errors.js';
import { plantRows, SENSORS } from '../multivariate/synthetic.js';
import { memoryArtifacts, memoryModels } from '../registry/fakes.js';

const detector = fitDetector(plantRows(300, 8), { detector: 'pca' });
const FEATURES = detector.featureNames;
const onnx = exportDetectorToOnnx(detector);

/** 400 rows of the same plant, a fault (+3 on the third feature) in rows 320-339, labelled 1 there. */
const ROWS = 400;
const FAULT: [number, number] = [320, 340];
const plant = plantRows(ROWS, 9);
for (let r = FAULT[0]; r < FAULT[1]; r++) plant.data[r * SENSORS + 2] += 3;
const label = (r: number) => (r >= FAULT[0] && r < FAULT[1] ? 1 : 0);
const featureRows = (from = 0, to = ROWS) => Array.from({ length: to - from }, (_, i) => Array.from(plant.data.subarray((from + i) * SENSORS, (from + i + 1) * SENSORS)));

const PROCESSED = 'datasets/acme/plant/processed/data.csv';
const T0 = Date.UTC(2026, 0, 1);

/** The processed CSV as the pipeline writes it: timestamp, sensors, label (`labelCell` overrides a row's label text). */
function processedCsv(labelCell: (r: number) => string = (r) => String(label(r))): string {
  const lines = [['time', ...FEATURES, 'anomaly', 'operator_flag'].join(',')];
  featureRows().forEach((row, r) => lines.push([new Date(T0 + r * 60_000).toISOString(), ...row.map(String), labelCell(r), String(r >= FAULT[0] - 5 && r < FAULT[1] ? 1 : 0)].join(',')));
  return `${lines.join('\n')}\n`;
}

const dataset = (overrides: Partial<Dataset> = {}): Dataset => ({
  id: 'plant',
  name: 'Plant',
  status: 'READY',
  fileName: 'data.csv',
  rawKey: 'datasets/acme/plant/raw/data.csv',
  processedKey: PROCESSED,
  schema: { timestampColumn: 'time', sensorColumns: [...FEATURES, 'operator_flag'].map((name) => ({ name })), labelColumn: 'anomaly' },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...overrides,
});

const readyModel = (over: Partial<ModelRecord> = {}): ModelRecord => ({
  id: 'pump',
  version: 1,
  status: 'READY',
  jobId: 'train-pump-1',
  detector: 'pca',
  features: FEATURES,
  lineage: { datasetId: 'plant', processedKey: PROCESSED, columns: {}, parameters: {} },
  artifact: { modelKey: modelKeys('acme', 'pump', 1).model, manifestKey: modelKeys('acme', 'pump', 1).manifest, bytes: onnx.length, sha256: 'x' },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

function memoryDatasets(records: Record<string, Dataset[]>): Pick<DatasetRepository, 'get'> {
  return { get: async (tenant, id) => structuredClone(records[tenant]?.find((d) => d.id === id)) };
}

function memoryObjects(objects: Record<string, string>): Pick<DatasetObjects, 'read'> & { reads: number } {
  const fake = {
    reads: 0,
    async read(key: string): Promise<AsyncIterable<Uint8Array>> {
      const text = objects[key];
      if (text === undefined) throw Object.assign(new Error(`no ${key}`), { name: 'NoSuchKey' });
      fake.reads++;
      const bytes = Buffer.from(text, 'utf8');
      return (async function* () {
        for (let i = 0; i < bytes.length; i += 64 * 1024) yield bytes.subarray(i, i + 64 * 1024);
      })();
    },
  };
  return fake;
}

const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'evaluate-model-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

async function setup(options: { datasets?: Dataset[]; csv?: string; model?: Partial<ModelRecord> | null } = {}) {
  const models = memoryModels();
  const artifacts = memoryArtifacts();
  if (options.model !== null) {
    const record = readyModel(options.model ?? {});
    await models.create('acme', record);
    if (record.artifact) await artifacts.put(record.artifact.modelKey, onnx, 'application/octet-stream');
  }
  const objects = memoryObjects({ [PROCESSED]: options.csv ?? processedCsv() });
  const loader = modelLoader({ models, artifacts, modelsDir: path.join(cacheDir, 'no-layer'), cacheDir: path.join(cacheDir, String(Math.random())) });
  const deps: EvaluateModelDeps = { datasets: memoryDatasets({ acme: options.datasets ?? [dataset()] }), objects, models, artifacts, loader, now: () => new Date('2026-02-01T00:00:00.000Z') };
  return { deps, models, artifacts, objects, loader };
}

const request = (body: Record<string, unknown>) => evaluateRequest.parse({ modelId: 'pump', datasetId: 'plant', ...body }) as ModelEvaluateRequest;

async function refusal(run: Promise<unknown>): Promise<TelltaleError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeDefined();
  return error as TelltaleError;
}

const storedJson = (artifacts: ReturnType<typeof memoryArtifacts>, key: string) => JSON.parse(Buffer.from(artifacts.objects.get(key)!).toString('utf8')) as ModelEvaluation;

describe('evaluate a model on a labelled dataset', () => {
  it('scores the rows exactly as predict does, measures them with the shared metrics and stores the result with the model', async () => {
    const { deps, models, artifacts, loader } = await setup();
    const result = await evaluateModelOnDataset(deps, 'acme', request({}));

    const predicted = await predict(loader, 'acme', { modelId: 'pump', rows: featureRows(), features: FEATURES });
    const truth = featureRows().map((_, r) => label(r));
    const expected = evaluationMetrics({
      truth,
      predicted: predicted.results.map((p) => p.label),
      scores: predicted.results.map((p) => p.score),
      threshold: predicted.threshold,
      profile: 'standard',
    });
    expect(result).toMatchObject(expected);
    expect(result.points).toBe(ROWS);
    expect(result.recall).toBeGreaterThan(0.5);
    expect(result.rocAuc).toBeGreaterThan(0.9);
    expect(result.eventWindow).toMatchObject({ windows: 1, detected: 1 });
    expect(result.model).toEqual({ id: 'pump', version: 1, detector: 'pca', source: 'registry' });
    expect(result.dataset).toEqual({ id: 'plant', labelColumn: 'anomaly', labelsFrom: 'column', fromRow: 0, toRow: ROWS, droppedRows: 0, unlabelledRows: 0, anomalies: 20 });
    // One session per version and container: predict above reused the evaluation's.
    expect(loader.cached).toBe(1);

    const id = evaluationId({ modelId: 'pump', version: 1, datasetId: 'plant', fromRow: 0, toRow: ROWS, labelColumn: 'anomaly' });
    const key = `models/acme/pump/1/evaluations/${id}.json`;
    expect(result.evaluationId).toBe(id);
    expect(result.stored).toEqual({ key, onModel: true });
    const { stored: _stored, ...full } = result;
    expect(storedJson(artifacts, key)).toEqual(full);
    expect((await models.get('acme', 'pump'))?.lastEvaluation).toEqual({
      id,
      datasetId: 'plant',
      at: '2026-02-01T00:00:00.000Z',
      f1: result.f1,
      far: result.falseAlarmRate,
      mar: result.missedAlarmRate,
      rocAuc: result.rocAuc,
      eventWindowScore: result.eventWindow.score,
    });
  });

  it('is idempotent: a retry overwrites its result; another row range or label column is another evaluation', async () => {
    const { deps, artifacts } = await setup();
    const first = await evaluateModelOnDataset(deps, 'acme', request({}));
    const again = await evaluateModelOnDataset(deps, 'acme', request({ toRow: 10_000 }));
    const evaluations = () => [...artifacts.objects.keys()].filter((k) => k.includes('/evaluations/'));
    expect(again.evaluationId).toBe(first.evaluationId);
    expect(evaluations()).toHaveLength(1);

    const ranged = await evaluateModelOnDataset(deps, 'acme', request({ fromRow: 300, toRow: 360 }));
    const otherLabel = await evaluateModelOnDataset(deps, 'acme', request({ labelColumn: 'operator_flag' }));
    expect(new Set([first.evaluationId, ranged.evaluationId, otherLabel.evaluationId]).size).toBe(3);
    expect(evaluations()).toHaveLength(3);
    expect(otherLabel.dataset).toMatchObject({ labelColumn: 'operator_flag', anomalies: 25 });
  });

  it("labels the rows by the operators' verdicts on the model's sensors when asked: confirmed episodes are the anomalies, rejected ones and other sensors' are not", async () => {
    const { deps } = await setup();
    const minute = (r: number) => new Date(T0 + r * 60_000).toISOString();
    const verdict = (episodeId: string, sensorIds: string[], from: number, to: number, v: 'confirmed' | 'rejected') => ({ episodeId, sensorIds, start: minute(from), end: minute(to), verdict: v, at: minute(ROWS) });
    deps.verdicts = {
      list: async (tenant) =>
        tenant === 'acme'
          ? [verdict('ep-fault', [FEATURES[2]], FAULT[0], FAULT[1] - 1, 'confirmed'), verdict('ep-noise', [FEATURES[0]], 100, 120, 'rejected'), verdict('ep-other', ['another-sensor'], 200, 220, 'confirmed')]
          : [],
    };
    const byColumn = await evaluateModelOnDataset(deps, 'acme', request({}));
    const byVerdicts = await evaluateModelOnDataset(deps, 'acme', request({ labelsFrom: 'verdicts' }));
    // The confirmed episode covers exactly the labelled fault: the same truth, the same metrics.
    const metricsOf = ({ points, confusion, precision, recall, f1, rocAuc, eventWindow }: typeof byColumn) => ({ points, confusion, precision, recall, f1, rocAuc, eventWindow });
    expect(metricsOf(byVerdicts)).toEqual(metricsOf(byColumn));
    expect(byVerdicts.dataset).toMatchObject({ labelColumn: 'verdicts', labelsFrom: 'verdicts', anomalies: 20 });
    expect(byVerdicts.evaluationId).not.toBe(byColumn.evaluationId);
    // Without verdicts every row is normal.
    const { deps: other } = await setup();
    other.verdicts = { list: async () => [] };
    expect((await evaluateModelOnDataset(other, 'acme', request({ labelsFrom: 'verdicts' }))).dataset).toMatchObject({ anomalies: 0 });
    expect(evaluateRequest.safeParse({ modelId: 'pump', datasetId: 'plant', labelsFrom: 'verdicts', labelColumn: 'anomaly' }).success).toBe(false);
    expect(evaluateRequest.safeParse({ labels: [0, 1], scores: [0.1, 0.9], labelsFrom: 'verdicts' }).success).toBe(false);
  });

  it('scores a row range afresh, as predict scores those rows', async () => {
    const { deps, loader } = await setup();
    const result = await evaluateModelOnDataset(deps, 'acme', request({ fromRow: 300, toRow: 360 }));
    const predicted = await predict(loader, 'acme', { modelId: 'pump', rows: featureRows(300, 360) });

    expect(result.points).toBe(60);
    expect(result.dataset).toMatchObject({ fromRow: 300, toRow: 360, anomalies: 20 });
    const alarms = predicted.results.map((p) => p.label);
    expect(result.confusion.tp + result.confusion.fp).toBe(alarms.filter((a) => a === 1).length);
  });

  it('leaves rows without a 0/1 label out of the metrics, not out of the scored stream', async () => {
    const { deps } = await setup({ csv: processedCsv((r) => (r < 50 ? '' : String(label(r)))) });
    const result = await evaluateModelOnDataset(deps, 'acme', request({}));
    expect(result.points).toBe(ROWS - 50);
    expect(result.dataset).toMatchObject({ unlabelledRows: 50, fromRow: 0, toRow: ROWS });
  });

  it('keeps lastEvaluation for the current version: an older version is stored beside it, not summarised on the model', async () => {
    const { deps, models, artifacts } = await setup();
    // A BYO version 2 of the same model (the PCA graph declared by its signature) becomes current.
    const registration = { models, artifacts, inspect: inspectOnnxModel, createScorer: createSignatureScorer };
    const signature = { input: { name: 'input', features: FEATURES }, outputs: { score: 'score' } };
    await registerModelVersion(registration, 'acme', { id: 'pump', onnx: Buffer.from(onnx).toString('base64'), signature, threshold: 5 });

    const old = await evaluateModelOnDataset(deps, 'acme', request({ version: 1 }));
    expect(old.model?.version).toBe(1);
    expect(old.stored).toMatchObject({ key: expect.stringMatching(/^models\/acme\/pump\/1\/evaluations\//), onModel: false });
    expect((await models.get('acme', 'pump'))?.lastEvaluation).toBeUndefined();

    const byo = await evaluateModelOnDataset(deps, 'acme', request({}));
    expect(byo.model).toEqual({ id: 'pump', version: 2, detector: 'external', source: 'registry' });
    expect(byo.threshold).toBe(5);
    expect(byo.stored).toMatchObject({ key: expect.stringMatching(/^models\/acme\/pump\/2\/evaluations\//), onModel: true });
    expect((await models.get('acme', 'pump'))?.lastEvaluation?.id).toBe(byo.evaluationId);
  });

  it('404: an unknown model or dataset, or another tenant\'s', async () => {
    const { deps } = await setup({ datasets: [] });
    expect(await refusal(evaluateModelOnDataset(deps, 'acme', request({})))).toBeInstanceOf(NotFoundError);
    expect(await refusal(evaluateModelOnDataset(deps, 'acme', request({ modelId: 'nope' })))).toBeInstanceOf(NotFoundError);
    const other = await setup();
    expect(await refusal(evaluateModelOnDataset(other.deps, 'globex', request({})))).toBeInstanceOf(NotFoundError);
  });

  it('409: a dataset not READY (its status in datasetStatus), or a model still training', async () => {
    const { deps, objects } = await setup({ datasets: [dataset({ status: 'PROFILING', processedKey: undefined })] });
    const error = await refusal(evaluateModelOnDataset(deps, 'acme', request({})));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.details).toEqual({ datasetStatus: 'PROFILING' });
    expect(objects.reads).toBe(0);

    const training = await setup({ model: { status: 'TRAINING', artifact: undefined } });
    expect(await refusal(evaluateModelOnDataset(training.deps, 'acme', request({})))).toBeInstanceOf(ConflictError);
  });

  it('422: no label column, a feature the dataset lacks, an empty range, no labelled row; nothing stored', async () => {
    const unlabelled = await setup({ datasets: [dataset({ schema: { ...dataset().schema!, labelColumn: undefined } })] });
    const noLabel = await refusal(evaluateModelOnDataset(unlabelled.deps, 'acme', request({})));
    expect(noLabel).toBeInstanceOf(UnprocessableError);
    expect(noLabel.message).toMatch(/no label column/);
    // Named in the request, a label column the schema does not declare is used.
    expect((await evaluateModelOnDataset(unlabelled.deps, 'acme', request({ labelColumn: 'anomaly' }))).dataset?.anomalies).toBe(20);

    const narrow = await setup({ datasets: [dataset({ schema: { timestampColumn: 'time', sensorColumns: FEATURES.slice(0, 5).map((name) => ({ name })), labelColumn: 'anomaly' } })] });
    const missing = await refusal(evaluateModelOnDataset(narrow.deps, 'acme', request({})));
    expect(missing).toBeInstanceOf(UnprocessableError);
    expect(missing.message).toContain(JSON.stringify(FEATURES[5]));
    expect(missing.details).toMatchObject({ missing: [FEATURES[5]] });
    expect(narrow.objects.reads).toBe(0);

    const { deps, artifacts, models } = await setup();
    expect((await refusal(evaluateModelOnDataset(deps, 'acme', request({ fromRow: ROWS })))).message).toMatch(/fromRow is 400/);
    expect((await refusal(evaluateModelOnDataset(deps, 'acme', request({ labelColumn: FEATURES[0] })))).message).toMatch(/a feature of the model/);
    const blank = await setup({ csv: processedCsv(() => '') });
    expect((await refusal(evaluateModelOnDataset(blank.deps, 'acme', request({})))).message).toMatch(/has a label of 0 or 1/);
    expect([...artifacts.objects.keys()].filter((k) => k.includes('/evaluations/'))).toEqual([]);
    expect((await models.get('acme', 'pump'))?.lastEvaluation).toBeUndefined();
  });

  it(`422 beyond ${MAX_EVALUATION_ROWS} rows, with a clear message`, async () => {
    const lines = [['time', ...FEATURES, 'anomaly'].join(',')];
    for (let r = 0; r <= MAX_EVALUATION_ROWS; r++) lines.push(`${1_700_000_000 + r},1,2,3,4,5,${r % 7},0`);
    const big = await setup({ csv: `${lines.join('\n')}\n`, datasets: [dataset({ schema: { timestampColumn: 'time', sensorColumns: FEATURES.map((name) => ({ name })), labelColumn: 'anomaly' } })] });
    const error = await refusal(evaluateModelOnDataset(big.deps, 'acme', request({})));
    expect(error).toBeInstanceOf(UnprocessableError);
    expect(error.message).toMatch(/more than 200,000 rows .* an evaluation reads at most 200,000/);
    expect(error.details).toMatchObject({ code: 'dataset_too_large' });
  });
});
