import { describe, expect, it, vi } from 'vitest';

// The handler is bound to the datasets and models tables and buckets (evaluate a model) and checks that at load.
vi.hoisted(() => {
  process.env.TABLE_DATASETS ??= 'datasets';
  process.env.BUCKET_DATASETS ??= 'datasets';
  process.env.TABLE_MODELS ??= 'models';
  process.env.BUCKET_MODELS ??= 'models';
});

import { handler } from '../../../../functions/ml/evaluateDetections.js';
import type { EvaluateResponse } from '../../../../shared/ml/api/contract.js';
import { post } from './requests.js';

const evaluate = (body: unknown, options: Parameters<typeof post>[3] = {}) => post<EvaluateResponse>(handler, '/api/v1/ml/evaluate', body, { scopes: ['telltale/models'], ...options });

//              0  1  2  3  4  5  6  7  8  9
const labels = [0, 0, 0, 1, 1, 1, 0, 0, 0, 0];
const scores = [0.1, 0.2, 0.7, 0.9, 0.8, 0.3, 0.1, 0.1, 0.2, 0.1];

describe('POST /ml/evaluate', () => {
  it('computes point-wise, ranking and event-window metrics from scores', async () => {
    const reply = await evaluate({ labels, scores, threshold: 0.5 });

    expect(reply.status).toBe(200);
    // Alarms at 2, 3, 4: TP 3, 4; FP 2; FN 5.
    expect(reply.json.confusion).toEqual({ tp: 2, fp: 1, tn: 6, fn: 1 });
    expect(reply.json.precision).toBeCloseTo(2 / 3);
    expect(reply.json.recall).toBeCloseTo(2 / 3);
    expect(reply.json.f1).toBeCloseTo(2 / 3);
    expect(reply.json.falseAlarmRate).toBeCloseTo(1 / 7);
    expect(reply.json.missedAlarmRate).toBeCloseTo(1 / 3);
    // Normals above 0.3: only 0.7 outranks the anomaly scored 0.3.
    expect(reply.json.rocAuc).toBeCloseTo(1 - 1 / 21);
    expect(reply.json.prAuc).toBeGreaterThan(0.7);
    // The alarm starting at 2 runs into the window: caught at its start, but its onset is a false alarm.
    expect(reply.json.eventWindow).toMatchObject({ windows: 1, detected: 1, falseAlarms: 1, meanDelay: 0 });
    expect(reply.json.eventWindow.score).toBeCloseTo((100 * (1 - 0.11 + 1)) / 2);
  });

  it('takes predictions and explicit windows, and gives null where a metric is undefined', async () => {
    const quiet = await evaluate({ labels, predictions: labels.map(() => 0) });
    const windowed = await evaluate({ labels, predictions: [0, 0, 0, 0, 0, 1, 1, 0, 0, 0], windows: [{ start: 3, end: 6 }] });

    expect(quiet.json.precision).toBeNull();
    expect(quiet.json.rocAuc).toBeNull();
    expect(quiet.json.eventWindow.score).toBe(0);
    expect(windowed.json.eventWindow).toMatchObject({ windows: 1, detected: 1, meanDelay: 2, falseAlarms: 0 });
    expect(windowed.json.threshold).toBeNull();
  });

  it.each([
    ['neither scores nor predictions', { labels }, 'body'],
    ['predictions of another length', { labels, predictions: [1, 0] }, 'body.predictions'],
    ['a label of 2', { labels: [...labels.slice(1), 2], scores }, 'body.labels.9'],
    ['overlapping windows', { labels, scores, windows: [{ start: 1, end: 4 }, { start: 3, end: 5 }] }, 'body.windows.1'],
    ['a window past the end', { labels, scores, windows: [{ start: 8, end: 10 }] }, 'body.windows.0'],
    ['neither labels nor a model', { profile: 'lowFp' }, 'body'],
    ['both forms at once', { labels, scores, modelId: 'pump', datasetId: 'plant' }, 'body'],
    ['a model without a dataset', { modelId: 'pump' }, 'body.datasetId'],
    ['a threshold for a model', { modelId: 'pump', datasetId: 'plant', threshold: 0.3 }, 'body.threshold'],
    ['an empty row range', { modelId: 'pump', datasetId: 'plant', fromRow: 10, toRow: 10 }, 'body.toRow'],
    ['a row range for inline labels', { labels, scores, fromRow: 2 }, 'body.fromRow'],
  ])('%s: 400', async (_what, body, pointer) => {
    const reply = await evaluate(body);

    expect(reply.status).toBe(400);
    expect(reply.json.errors?.map((e) => e.pointer)).toContain(pointer);
  });

  it('needs the models scope', async () => {
    expect((await evaluate({ labels, scores }, { scopes: ['telltale/read'] })).status).toBe(403);
  });
});
