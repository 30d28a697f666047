import { describe, expect, it, vi } from 'vitest';

// The handler is bound to the datasets table and bucket (detect by dataset id) and checks that at load.
vi.hoisted(() => {
  process.env.TABLE_DATASETS ??= 'datasets';
  process.env.BUCKET_DATASETS ??= 'datasets';
});

import { handler } from '../../../../functions/ml/detectAnomalies.js';
import type { DetectResponse } from '../../../../shared/ml/api/contract.js';
import { MINUTE, plantMatrix, post, seasonalSeries, T0 } from './requests.js';

const PATH = '/api/v1/ml/detect';
const detect = (body: unknown, options: Parameters<typeof post>[3] = {}) => post<DetectResponse>(handler, PATH, body, options);

const SPIKE = 450;
const withSpike = seasonalSeries(600, 7, (i, v) => (i === SPIKE ? v + 3 : v));

describe('POST /ml/detect on a series', () => {
  it('flags an injected spike with a segment around it and few other alarms', async () => {
    const reply = await detect({ series: withSpike, mode: 'batch', trainRows: 300 });

    expect(reply.status).toBe(200);
    const { points, segments } = reply.json;
    expect(points.scores).toHaveLength(600);
    expect(points.expected).toHaveLength(600);
    expect(points.labels[SPIKE]).toBe(true);
    expect(points.scores.every((s) => s >= 0 && s <= 1)).toBe(true);
    const around = segments.find((s) => s.startIndex <= SPIKE && s.endIndex >= SPIKE);
    expect(around).toMatchObject({ start: new Date(T0 + SPIKE * MINUTE).toISOString(), peakIndex: SPIKE, kind: 'spike' });
    expect(points.labels.filter(Boolean).length).toBeLessThanOrEqual(6);
    expect(points.lower![SPIKE - 1]).toBeLessThan(points.expected![SPIKE - 1]);
    expect(points.upper![SPIKE - 1]).toBeGreaterThan(points.expected![SPIKE - 1]);
    expect(reply.json.period).toBe(48);
  });

  it('accepts a flat warm-up: the first departure from the constant is labelled and scores high', async () => {
    const flat = withSpike.map((p, i) => ({ ...p, value: i < 500 ? 3 : 3 + 0.5 * Math.sin(i) }));

    const reply = await detect({ series: flat, mode: 'streaming', trainRows: 400 });

    expect(reply.status).toBe(200);
    const { points } = reply.json;
    expect(points.labels[500]).toBe(true);
    expect(points.scores[500]).toBeGreaterThanOrEqual(reply.json.threshold);
    expect(points.labels.slice(0, 500).some(Boolean)).toBe(false);
  });

  it('accepts a constant column in a matrix and labels a departure from it', async () => {
    const plant = plantMatrix(300, 3);
    const rows = plant.rows.map((r, i) => [...r, i === 250 ? 43 : 42]);

    const reply = await detect({ matrix: { ...plant, features: [...plant.features, 'flat'], rows }, detector: 'pca', mode: 'streaming', trainRows: 200 });

    expect(reply.status).toBe(200);
    expect(reply.json.points.labels[250]).toBe(true);
  });

  it('in streaming mode scores each point from earlier points only', async () => {
    const full = await detect({ series: withSpike, mode: 'streaming', trainRows: 300 });
    const prefix = await detect({ series: withSpike.slice(0, 500), mode: 'streaming', trainRows: 300 });

    expect(full.status).toBe(200);
    expect(full.json.scoredFrom).toBe(300);
    expect(full.json.points.scores.slice(0, 300).every((s) => s === 0)).toBe(true);
    expect(full.json.points.labels[SPIKE]).toBe(true);
    expect(full.json.points.scores.slice(0, 500)).toEqual(prefix.json.points.scores);
  });

  it('reports a level shift as a change point', async () => {
    const shifted = seasonalSeries(600, 3, (i, v) => (i >= 350 ? v + 2 : v));

    const reply = await detect({ series: shifted, period: 48 });

    expect(reply.status).toBe(200);
    expect(reply.json.changePoints.some((c) => Math.abs(c.index - 350) <= 5 && c.magnitude > 1.5)).toBe(true);
  });
});

describe('POST /ml/detect on a matrix', () => {
  const FAULT = [500, 530] as const;
  const faulty = plantMatrix(600, 11, (r, row) => (r >= FAULT[0] && r < FAULT[1] ? row.map((v, c) => (c === 2 ? v + 1.5 : v)) : row));

  it('finds the fault and names the sensor that drove it', async () => {
    const reply = await detect({ matrix: faulty, detector: 'pca', trainRows: 400, sensitivity: 40 });

    expect(reply.status).toBe(200);
    const hits = reply.json.segments.filter((s) => s.endIndex >= FAULT[0] && s.startIndex < FAULT[1]);
    expect(hits.length).toBeGreaterThan(0);
    expect(hits[0].contributions[0].feature).toBe('temperature');
    const flagged = reply.json.points.labels.slice(FAULT[0], FAULT[1]).filter(Boolean).length;
    const falseAlarms = reply.json.points.labels.slice(400, FAULT[0]).filter(Boolean).length;
    expect(flagged).toBeGreaterThanOrEqual(20);
    expect(falseAlarms).toBeLessThanOrEqual(5);
  });

  it.each(['isolation_forest', 'autoencoder', 'mset'] as const)('%s scores the fault above normal rows', async (detector) => {
    const reply = await detect({ matrix: faulty, detector, trainRows: 400, mode: 'streaming' });

    expect(reply.status).toBe(200);
    expect(reply.json.scoredFrom).toBe(400);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const { scores } = reply.json.points;
    expect(mean(scores.slice(FAULT[0], FAULT[1]))).toBeGreaterThan(1.5 * mean(scores.slice(400, FAULT[0])));
    expect(scores.slice(0, 400).every((s) => s === 0)).toBe(true);
  });
});

describe('POST /ml/detect refuses bad input with a problem', () => {
  const series = withSpike.slice(0, 100);
  const matrix = plantMatrix(50, 5);

  it.each([
    ['NaN sent as null', { series: series.map((p, i) => (i === 5 ? { ...p, value: null } : p)) }, 'body.series.5.value'],
    ['a number sent as a string', { series: series.map((p, i) => (i === 7 ? { ...p, value: '1.5' } : p)) }, 'body.series.7.value'],
    ['a row of the wrong width', { matrix: { ...matrix, rows: matrix.rows.map((r, i) => (i === 3 ? r.slice(1) : r)) } }, 'body.matrix.rows.3'],
    ['an unknown detector', { series, detector: 'lstm' }, 'body.detector'],
    ['a matrix detector for a series', { series, detector: 'pca' }, 'body.detector'],
    ['both series and matrix', { series, matrix }, 'body'],
    ['timestamps that go backwards', { series: series.map((p, i) => (i === 9 ? { ...p, timestamp: series[2].timestamp } : p)) }, 'body.series.9.timestamp'],
    ['more training rows than points', { series, trainRows: 101 }, 'body.trainRows'],
    ['100,001 points', { series: Array.from({ length: 100_001 }, (_, i) => ({ timestamp: i, value: 0 })) }, 'body.series'],
  ])('%s: 400 naming the field', async (_what, body, pointer) => {
    const reply = await detect(body);

    expect(reply.status).toBe(400);
    expect(reply.contentType).toBe('application/problem+json');
    expect(reply.json.errors?.map((e) => e.pointer)).toContain(pointer);
  });

  it('refuses Infinity (a JSON number too large for a double) naming the point', async () => {
    const text = JSON.stringify({ series: series.map((p, i) => (i === 4 ? { ...p, value: 0 } : p)) }).replace(/"value":0([,}])/, '"value":1e999$1');

    const reply = await detect(text);

    expect(reply.status).toBe(400);
    expect(reply.json.errors?.map((e) => e.pointer)).toContain('body.series.4.value');
  });

  it('accepts a matrix with a feature that sat flat: scores come back finite', async () => {
    const reply = await detect({ matrix: { ...matrix, rows: matrix.rows.map((r) => [...r.slice(0, 5), 42]) } });

    expect(reply.status).toBe(200);
    expect(reply.json.points?.scores.every((s) => Number.isFinite(s))).toBe(true);
  });

  it('answers 413 to 200,001 points before parsing them', async () => {
    const body = JSON.stringify({ series: Array.from({ length: 200_001 }, (_, i) => ({ timestamp: T0 + i, value: 1.25 })) });

    const reply = await detect(body);

    expect(reply.status).toBe(413);
  });

  it.each([
    ['a single row', { matrix: plantMatrix(1, 1) }, 'too-few-rows'],
    ['a series shorter than the detector needs', { series: series.slice(0, 10) }, 'series_too_short'],
    ['a series shorter than two seasons', { series, period: 60 }, 'series_too_short'],
  ])('%s: 422 with the domain code and message', async (_what, body, code) => {
    const reply = await detect(body);

    expect(reply.status).toBe(422);
    expect(reply.json.type).toBe('urn:telltale:problem:unprocessable');
    expect(reply.json.code).toBe(code);
    expect(reply.json.detail?.length).toBeGreaterThan(10);
  });

  it('refuses an autoencoder too large to train within a request', async () => {
    const plant = plantMatrix(8_000, 2);
    const wide = { timestamps: plant.timestamps, features: [...plant.features, ...plant.features.map((f) => `${f}2`)], rows: plant.rows.map((r) => [...r, ...r.map((v) => v * v)]) };

    const reply = await detect({ matrix: wide, detector: 'autoencoder' });

    expect(reply.status).toBe(400);
    expect(reply.json.errors?.[0].pointer).toBe('body.trainRows');
  });

  it('needs the read scope and a token', async () => {
    const noScope = await detect({ series }, { scopes: ['telltale/ingest'] });
    const noToken = await detect({ series }, { claims: null });
    const wrongType = await detect(JSON.stringify({ series }), { headers: { 'content-type': 'text/plain' } });

    expect(noScope.status).toBe(403);
    expect(noToken.status).toBe(401);
    expect(wrongType.status).toBe(415);
  });
});
