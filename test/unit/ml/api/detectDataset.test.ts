import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../../../shared/data/registry/dataset.js';
import type { DatasetObjects, DatasetRepository } from '../../../../shared/data/registry/datasetRepository.js';
import { ConflictError, NotFoundError, UnprocessableError, ValidationError, type TelltaleError } from '../../../../shared/platform/errors.js';
import { detectRequest, ML_LIMITS, type DetectRequest } from '../../../../shared/ml/api/contract.js';
import { detectAnomalies } from '../../../../shared/ml/api/detect.js';
import { detectInDataset } from '../../../../shared/ml/api/detectDataset.js';
import { plantMatrix, seasonalSeries } from './requests.js';

/** Dataset records keyed by tenant, as the DynamoDB adapter keys them. */
function memoryDatasets(records: Record<string, Dataset[]>): Pick<DatasetRepository, 'get'> {
  return { get: async (tenant, id) => structuredClone(records[tenant]?.find((d) => d.id === id)) };
}

/** Objects as text, streamed in chunks of `linesPerChunk` lines; counts the chunks handed out. */
function memoryObjects(objects: Record<string, string>, linesPerChunk = 500): Pick<DatasetObjects, 'read'> & { chunksRead: number } {
  const fake = {
    chunksRead: 0,
    async read(key: string): Promise<AsyncIterable<Uint8Array>> {
      const text = objects[key];
      if (text === undefined) throw Object.assign(new Error(`no ${key}`), { name: 'NoSuchKey' });
      const lines = text.split(/(?<=\n)/);
      return (async function* () {
        for (let i = 0; i < lines.length; i += linesPerChunk) {
          fake.chunksRead++;
          yield Buffer.from(lines.slice(i, i + linesPerChunk).join(''), 'utf8');
        }
      })();
    },
  };
  return fake;
}

const PROCESSED = 'datasets/acme/plant/processed/data.csv';

const dataset = (overrides: Partial<Dataset> = {}): Dataset => ({
  id: 'plant',
  name: 'Plant',
  status: 'READY',
  fileName: 'data.csv',
  rawKey: 'datasets/acme/plant/raw/data.csv',
  processedKey: PROCESSED,
  schema: { timestampColumn: 'time', sensorColumns: ['flow', 'pressure', 'temperature', 'current', 'vibration', 'voltage'].map((name) => ({ name })), labelColumn: 'anomaly' },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...overrides,
});

/** The processed CSV as the pipeline writes it: timestamp, sensors, label. */
function processedCsv(m: ReturnType<typeof plantMatrix>, blank: (r: number) => boolean = () => false): string {
  const lines = [['time', ...m.features, 'anomaly'].join(',')];
  m.rows.forEach((row, r) => lines.push([new Date(m.timestamps[r]).toISOString(), ...row.map((v, c) => (c === 1 && blank(r) ? '' : String(v))), '0'].join(',')));
  return `${lines.join('\n')}\n`;
}

const FAULT = [250, 270];
const plant = plantMatrix(300, 7, (r, row) => (r >= FAULT[0] && r < FAULT[1] ? row.map((v, c) => (c === 2 ? v + 3 : v)) : row));

/** The request as the route hands it over: parsed by the contract, defaults filled. */
const parsed = (body: Record<string, unknown>): DetectRequest => detectRequest.parse(body);

async function refusal(run: Promise<unknown>): Promise<TelltaleError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeDefined();
  return error as TelltaleError;
}

function setup(records: Dataset[] = [dataset()], text = processedCsv(plant)) {
  const objects = memoryObjects({ [PROCESSED]: text });
  return { deps: { datasets: memoryDatasets({ acme: records }), objects }, objects };
}

describe('detect by dataset id', () => {
  it('scores a READY dataset exactly as the same matrix sent inline, and says which rows it read', async () => {
    const { deps } = setup();
    const request = parsed({ dataset: { id: 'plant' }, detector: 'pca', trainRows: 200 });

    const result = await detectInDataset(deps, 'acme', request.dataset!, request);

    const inline = detectAnomalies(parsed({ matrix: plant, detector: 'pca', trainRows: 200 }));
    expect(result).toMatchObject({ kind: 'multivariate', detector: 'pca', features: plant.features, trainRows: 200 });
    expect(result.points.scores).toEqual(inline.points.scores);
    expect(result.segments).toEqual(inline.segments);
    expect(result.dataset).toEqual({ id: 'plant', rows: 300, droppedRows: 0, from: new Date(plant.timestamps[0]).toISOString(), to: new Date(plant.timestamps[299]).toISOString() });
    expect(result.points.labels.slice(FAULT[0], FAULT[1]).filter(Boolean).length).toBeGreaterThanOrEqual(15);
  });

  it('never takes a label column as a feature: a declared sensor column named like a label is left out, and naming one is a 400', async () => {
    // The declared schema lists changepoint among the sensors; the file has it, always 0 but at the fault.
    const csv = processedCsv(plant).split('\n').map((line, i) => (line === '' ? line : `${line},${i === 0 ? 'changepoint' : i - 1 === FAULT[0] ? 1 : 0}`)).join('\n');
    const schema = { ...dataset().schema!, sensorColumns: [...dataset().schema!.sensorColumns, { name: 'changepoint' }] };
    const { deps } = setup([dataset({ schema })], csv);
    const request = parsed({ dataset: { id: 'plant' }, trainRows: 200 });

    expect((await detectInDataset(deps, 'acme', request.dataset!, request)).features).toEqual(plant.features);
    for (const label of ['changepoint', 'anomaly']) {
      const named = parsed({ dataset: { id: 'plant', features: ['flow', label] }, trainRows: 200 });
      const error = await refusal(detectInDataset(deps, 'acme', named.dataset!, named));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues).toEqual([{ pointer: 'body.dataset.features', message: `Label column "${label}"` }]);
    }
  });

  it('takes one feature as a series for the streaming detector, named after the column', async () => {
    const series = seasonalSeries(400, 3, (i, v) => (i === 300 ? v + 5 : v));
    const csv = `time,flow\n${series.map((p) => `${p.timestamp},${p.value}`).join('\n')}\n`;
    const { deps } = setup([dataset({ schema: { timestampColumn: 'time', sensorColumns: [{ name: 'flow' }] } })], csv);
    const request = parsed({ dataset: { id: 'plant' } });

    const result = await detectInDataset(deps, 'acme', request.dataset!, request);

    expect(result).toMatchObject({ kind: 'univariate', detector: 'streaming', features: ['flow'] });
    expect(result.points.scores).toEqual(detectAnomalies(parsed({ series })).points.scores);
    expect(result.points.labels[300]).toBe(true);
    expect(result.segments.every((s) => s.contributions[0].feature === 'flow')).toBe(true);
  });

  it('reads only the chosen features and the first `limit` rows, leaving out rows with a feature missing', async () => {
    const { deps } = setup([dataset()], processedCsv(plant, (r) => r % 50 === 0));
    const request = parsed({ dataset: { id: 'plant', features: ['temperature', 'pressure'], limit: 120 } });

    const result = await detectInDataset(deps, 'acme', request.dataset!, request);

    expect(result.features).toEqual(['temperature', 'pressure']);
    expect(result.points.scores).toHaveLength(120);
    // Rows 0, 50 and 100 have no pressure: 120 usable rows end at row 122.
    expect(result.dataset).toMatchObject({ rows: 120, droppedRows: 3, to: new Date(plant.timestamps[122]).toISOString() });
  });

  it('refuses a dataset over the inline point limit with 422, pointing to train and predict, without reading it all', async () => {
    const n = ML_LIMITS.points + 50_000;
    const t0 = Date.UTC(2026, 0, 1);
    const lines = ['time,flow'];
    for (let i = 0; i < n; i++) lines.push(`${t0 + i * 1000},${(i % 97) / 10}`);
    const { deps, objects } = setup([dataset({ schema: { timestampColumn: 'time', sensorColumns: [{ name: 'flow' }] } })], `${lines.join('\n')}\n`);
    const request = parsed({ dataset: { id: 'plant' } });

    const error = await refusal(detectInDataset(deps, 'acme', request.dataset!, request));

    expect(error).toBeInstanceOf(UnprocessableError);
    expect(error.details).toMatchObject({ code: 'dataset_too_large' });
    expect(error.message).toMatch(/POST \/api\/v1\/ml\/train/);
    expect(error.message).toMatch(/predict/);
    expect(objects.chunksRead).toBeLessThan(Math.ceil(n / 500));
  });

  it('refuses a limit whose cells are over the matrix limit before reading', async () => {
    const { deps, objects } = setup();
    const request = parsed({ dataset: { id: 'plant', limit: 100_000 } });

    const error = await refusal(detectInDataset(deps, 'acme', request.dataset!, request));

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues[0].pointer).toBe('body.dataset.limit');
    expect(objects.chunksRead).toBe(0);
  });

  it('answers 404 for an unknown dataset and for another tenant\'s', async () => {
    const { deps } = setup();
    const request = parsed({ dataset: { id: 'nope' } });
    expect(await refusal(detectInDataset(deps, 'acme', request.dataset!, request))).toBeInstanceOf(NotFoundError);
    const theirs = parsed({ dataset: { id: 'plant' } });
    expect(await refusal(detectInDataset(deps, 'globex', theirs.dataset!, theirs))).toBeInstanceOf(NotFoundError);
  });

  it('answers 409 with the status while the dataset is not READY, and with the failure when it FAILED', async () => {
    const { deps } = setup([
      dataset({ id: 'busy', status: 'PROFILING', processedKey: undefined }),
      dataset({ id: 'broken', status: 'FAILED', processedKey: undefined, failure: { step: 'Validate', cause: 'no timestamp column', at: '2026-01-01T00:00:00.000Z' } }),
    ]);
    const busy = parsed({ dataset: { id: 'busy' } });
    const busyError = await refusal(detectInDataset(deps, 'acme', busy.dataset!, busy));
    expect(busyError).toBeInstanceOf(ConflictError);
    expect(busyError.details).toEqual({ datasetStatus: 'PROFILING' });
    expect(busyError.message).toContain('PROFILING');

    const broken = parsed({ dataset: { id: 'broken' } });
    const brokenError = await refusal(detectInDataset(deps, 'acme', broken.dataset!, broken));
    expect(brokenError).toBeInstanceOf(ConflictError);
    expect(brokenError.message).toContain('Validate: no timestamp column');
  });

  it('refuses unknown features, and options that do not fit the shape the dataset turns out to have', async () => {
    const { deps } = setup();
    const cases: [Record<string, unknown>, string][] = [
      [{ dataset: { id: 'plant', features: ['flow', 'anomaly'] } }, 'body.dataset.features'],
      [{ dataset: { id: 'plant' }, detector: 'streaming' }, 'body.dataset.features'],
      [{ dataset: { id: 'plant' }, period: 24 }, 'body.period'],
      [{ dataset: { id: 'plant', features: ['flow'] }, options: { scoreWindow: 3 } }, 'body.options'],
    ];
    for (const [body, pointer] of cases) {
      const request = parsed(body);
      const error = await refusal(detectInDataset(deps, 'acme', request.dataset!, request));
      expect(error, JSON.stringify(body)).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues[0].pointer).toBe(pointer);
    }
  });

  it('the contract takes exactly one of series, matrix and dataset, and checks the dataset form', () => {
    const series = seasonalSeries(40, 1);
    expect(detectRequest.safeParse({ dataset: { id: 'plant' }, series }).success).toBe(false);
    expect(detectRequest.safeParse({ dataset: { id: 'plant' }, matrix: plant }).success).toBe(false);
    expect(detectRequest.safeParse({}).success).toBe(false);
    expect(detectRequest.safeParse({ dataset: { id: '../x' } }).success).toBe(false);
    expect(detectRequest.safeParse({ dataset: { id: 'plant', limit: 0 } }).success).toBe(false);
    expect(detectRequest.safeParse({ dataset: { id: 'plant', unknown: 1 } }).success).toBe(false);
    expect(detectRequest.safeParse({ dataset: { id: 'plant', features: ['a', 'a'] } }).success).toBe(false);
    expect(detectRequest.safeParse({ dataset: { id: 'plant', limit: 10 }, trainRows: 20 }).success).toBe(false);
    expect(detectRequest.safeParse({ dataset: { id: 'plant', features: ['a'] }, detector: 'mset' }).success).toBe(true);
  });
});
