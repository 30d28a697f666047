/**
 * The default detector and options are declared once (defaultDetectorOptions); the CLI, POST /ml/detect
 * and POST /ml/train must all resolve a request without options to exactly them.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../bin/cli.js';
import { windowOptions } from '../../../bin/detect.js';
import { detectRequest } from '../../../shared/ml/api/contract.js';
import { detectAnomalies } from '../../../shared/ml/api/detect.js';
import { DEFAULTS_NOTE, defaultDetectorName, defaultDetectorOptions, resolveDetectorOptions, withDefaultOptions } from '../../../shared/ml/detectors.js';
import { fitDetector, scoreDetector, sliceRows, type Matrix } from '../../../shared/ml/multivariate/index.js';

const FIXTURE = path.resolve(import.meta.dirname, '../../fixtures/data/skab-valve1-0.csv');
const TRAIN_ROWS = 400;
const dir = mkdtempSync(path.join(os.tmpdir(), 'defaults-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = readFileSync(FIXTURE, 'utf8').trim().split(/\r?\n/);
const header = lines[0].split(';');
const features = header.slice(1, 9);
const body = lines.slice(1).map((l) => l.split(';'));
const rows = body.map((cells) => cells.slice(1, 9).map(Number));
const matrix: Matrix = { rows: rows.length, cols: features.length, data: Float64Array.from(rows.flat()) };

/** The labels the declared defaults give, fitted on the first TRAIN_ROWS rows. */
const expected = (() => {
  const detector = fitDetector(sliceRows(matrix, 0, TRAIN_ROWS), { ...defaultDetectorOptions, featureNames: features });
  return { labels: Array.from(scoreDetector(detector, matrix).labels), threshold: detector.calibration.threshold };
})();

describe('the defaults are declared once and used everywhere', () => {
  it('the declared defaults find the valve fault of the fixture at all', () => {
    const anomalous = body.map((cells) => Number(cells[9]));
    const hits = expected.labels.filter((l, i) => l === 1 && anomalous[i] === 1).length;
    // At a 1-in-10,000 target rate the defaults are conservative: a tenth of the fault's 401 rows, and no false alarm.
    expect(hits).toBeGreaterThan(40);
    expect(expected.labels.filter((l, i) => i >= TRAIN_ROWS && l === 1 && anomalous[i] === 0)).toHaveLength(0);
  });

  it('telltale detect with no option but --train-rows labels exactly as the declared defaults', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const out = path.join(dir, 'scores.csv');
    expect(await main(['detect', '--input', FIXTURE, '--output', out, '--train-rows', String(TRAIN_ROWS)])).toBe(0);
    vi.restoreAllMocks();
    const labels = readFileSync(out, 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[2]));
    expect(labels).toEqual(expected.labels);
  });

  it('POST /ml/detect on a matrix with no detector and no options answers with the declared defaults', () => {
    const timestamps = body.map((cells, i) => new Date(Date.UTC(2020, 2, 9) + i * 1000).toISOString());
    const request = detectRequest.parse({ matrix: { timestamps, features, rows }, trainRows: TRAIN_ROWS });
    const reply = detectAnomalies(request);
    expect(reply.detector).toBe(defaultDetectorName);
    expect(reply.threshold).toBeCloseTo(expected.threshold, 6);
    expect(reply.points.labels.map(Number)).toEqual(expected.labels);
  });

  it('the defaults can be spelt out: a named detector with the same options, from the API and the CLI, labels the same', async () => {
    const d = defaultDetectorOptions;
    const timestamps = body.map((_, i) => new Date(Date.UTC(2020, 2, 9) + i * 1000).toISOString());
    const options = { inputWindow: d.inputWindow, scoreWindow: d.scoreWindow, slowFeatures: true, calibrationFolds: d.calibrationFolds, tail: d.tail, targetFalseAlarmRate: d.targetFalseAlarmRate };
    const reply = detectAnomalies(detectRequest.parse({ matrix: { timestamps, features, rows }, detector: defaultDetectorName, trainRows: TRAIN_ROWS, options }));
    expect(reply.points.labels.map(Number)).toEqual(expected.labels);

    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const out = path.join(dir, 'spelt.csv');
    const flags = ['--detector', defaultDetectorName, '--input-window', String(d.inputWindow), '--score-window', String(d.scoreWindow), '--slow-features', '--calibration-folds', String(d.calibrationFolds), '--tail', d.tail, '--far', String(d.targetFalseAlarmRate)];
    expect(await main(['detect', '--input', FIXTURE, '--output', out, '--train-rows', String(TRAIN_ROWS), ...flags])).toBe(0);
    vi.restoreAllMocks();
    expect(readFileSync(out, 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[2]))).toEqual(expected.labels);
  });

  it('the CLI reads every option a default sets, and refuses a tail it does not know', () => {
    expect(windowOptions({ tail: 'gpd', 'calibration-folds': '5', 'slow-features': true })).toMatchObject({ tail: 'gpd', calibrationFolds: 5, slowFeatures: true });
    expect(() => windowOptions({ tail: 'pareto' })).toThrow(/--tail must be one of exponential, gpd/);
  });

  it('no detector named resolves to the defaults; a named one to that family with only the options given', () => {
    expect(resolveDetectorOptions(undefined, { featureNames: ['a'] })).toEqual({ ...defaultDetectorOptions, featureNames: ['a'] });
    expect(resolveDetectorOptions('pca', { inputWindow: 3 })).toEqual({ detector: 'pca', inputWindow: 3 });
  });

  it('a sensitivity or an option the caller sets wins over the defaults', () => {
    const options = withDefaultOptions({ sensitivity: 80, inputWindow: 5 });
    expect(options.targetFalseAlarmRate).toBeUndefined();
    expect(options.inputWindow).toBe(5);
    expect(options.detector).toBe(defaultDetectorOptions.detector);
  });

  it('the usage text and the API contract describe the defaults', async () => {
    let usage = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      usage += String(chunk);
      return true;
    });
    await main(['--help']);
    vi.restoreAllMocks();
    expect(usage).toContain(DEFAULTS_NOTE);
    expect(detectRequest.shape.detector.description).toContain(DEFAULTS_NOTE);
  });
});
