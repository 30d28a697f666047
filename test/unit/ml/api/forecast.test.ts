import { describe, expect, it } from 'vitest';
import { handler } from '../../../../functions/ml/forecastSeries.js';
import type { ForecastResponse } from '../../../../shared/ml/api/contract.js';
import { MINUTE, post, seasonalSeries, T0 } from './requests.js';

const forecast = (body: unknown, options: Parameters<typeof post>[3] = {}) => post<ForecastResponse>(handler, '/api/v1/ml/forecast', body, options);

describe('POST /ml/forecast', () => {
  it('finds the season and forecasts it with intervals and timestamps', async () => {
    const series = seasonalSeries(480, 21);

    const reply = await forecast({ series, horizon: 48 });

    expect(reply.status).toBe(200);
    const { model, points, accuracy } = reply.json;
    expect(model.period).toBe(48);
    expect(points).toHaveLength(48);
    expect(points[0].timestamp).toBe(new Date(T0 + 480 * MINUTE).toISOString());
    points.forEach((p, h) => {
      const truth = 10 + Math.sin((2 * Math.PI * (480 + h)) / 48);
      expect(Math.abs(p.mean - truth)).toBeLessThan(0.3);
      expect(p.lower).toBeLessThan(p.mean);
      expect(p.upper).toBeGreaterThan(p.mean);
    });
    expect(accuracy?.beatsNaive).toBe(true);
  });

  it('says how auto chose: the periods tried, every candidate with its AICc, and the check against seasonal naive', async () => {
    const reply = await forecast({ series: seasonalSeries(480, 22), horizon: 48 });

    expect(reply.status).toBe(200);
    const { model, selection } = reply.json;
    expect(selection.periods).toContain(48);
    expect(selection.candidates.length).toBeGreaterThanOrEqual(9);
    expect(selection.floor).toMatchObject({ origins: 3, usedNaive: false });
    expect(model.aicc).toBe(Math.min(...selection.candidates.map((c) => c.aicc)));
  });

  it('forecasts with the model asked for: seasonal naive, or Holt-Winters with a multiplicative season', async () => {
    const series = seasonalSeries(480, 23);

    const naive = await forecast({ series, horizon: 48, model: 'seasonal_naive', period: 48 });
    const multiplicative = await forecast({ series, horizon: 48, model: 'holt_winters', seasonal: 'multiplicative', period: 48 });

    expect(naive.status).toBe(200);
    expect(naive.json.model).toMatchObject({ kind: 'seasonal_naive', period: 48, aic: null });
    expect(naive.json.points[5].mean).toBe(series[480 - 48 + 5].value);
    expect(multiplicative.status).toBe(200);
    expect(multiplicative.json.model).toMatchObject({ kind: 'holt_winters', season: 'multiplicative', trend: 'additive', period: 48 });
  });

  it('forecasts a constant series as flat', async () => {
    const reply = await forecast({ series: seasonalSeries(50, 1).map((p) => ({ ...p, value: 5 })), horizon: 3 });

    expect(reply.status).toBe(200);
    expect(reply.json.points.map((p) => p.mean)).toEqual([5, 5, 5]);
  });

  it.each([
    ['a horizon of 0', { series: seasonalSeries(100, 1), horizon: 0 }, 400, 'body.horizon'],
    ['NaN sent as null', { series: seasonalSeries(100, 1).map((p, i) => (i === 3 ? { ...p, value: null } : p)), horizon: 5 }, 400, 'body.series.3.value'],
    ['20,001 points', { series: Array.from({ length: 20_001 }, (_, i) => ({ timestamp: i, value: i % 7 })), horizon: 5 }, 400, 'body.series'],
    ['an unknown field', { series: seasonalSeries(100, 1), horizon: 5, alpha: 0.3 }, 400, 'body'],
    ['an unknown seasonal', { series: seasonalSeries(100, 1), horizon: 5, seasonal: 'logarithmic' }, 400, 'body.seasonal'],
    ['an unknown model', { series: seasonalSeries(100, 1), horizon: 5, model: 'arima' }, 400, 'body.model'],
  ])('%s: %i', async (_what, body, status, pointer) => {
    const reply = await forecast(body);

    expect(reply.status).toBe(status);
    expect(reply.json.errors?.map((e) => e.pointer)).toContain(pointer);
  });

  it.each([
    ['a series too short to fit', { series: seasonalSeries(5, 1), horizon: 2 }],
    ['a series shorter than two seasons', { series: seasonalSeries(100, 1), horizon: 2, period: 60 }],
  ])('%s: 422', async (_what, body) => {
    const reply = await forecast(body);

    expect(reply.status).toBe(422);
    expect(reply.json.code).toBe('series_too_short');
  });

  it('refuses a multiplicative season on a series that reaches 0: 400', async () => {
    const series = seasonalSeries(200, 24).map((p, i) => (i === 7 ? { ...p, value: 0 } : p));

    const reply = await forecast({ series, horizon: 5, model: 'holt_winters', seasonal: 'multiplicative', period: 48 });

    expect(reply.status).toBe(400);
    expect(reply.json.code).toBe('invalid_parameter');
  });

  it('needs the read scope', async () => {
    expect((await forecast({ series: seasonalSeries(50, 1), horizon: 2 }, { scopes: ['telltale/data'] })).status).toBe(403);
  });
});
