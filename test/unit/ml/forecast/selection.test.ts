import { describe, expect, it } from 'vitest';
import { calendarPeriod, candidatePeriods, fitEts, forecastSeries, type EtsSpec } from '../../../../shared/ml/forecast/index.js';
import { createRng, gaussian } from '../../../../shared/ml/multivariate/rng.js';
import { coverage, mase, readForecastFixture, seasonalNaiveMeans, trainingTimestamps } from '../../../fixtures/forecast/series.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A CO2-like monthly series: an accelerating rise, a yearly season and a little noise (the line-detrended ACF misses its season). */
function co2Like(seed: number, n = 216): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, t) => 330 + 0.1 * t + 0.0005 * t * t + 2 * Math.sin((2 * Math.PI * t) / 12) + (2 / 3) * Math.cos((4 * Math.PI * t) / 12) + 0.3 * gaussian(rng));
}

/** A path of ETS(A,A,A) (or ETS(A,A,M) with multiplicative) with known parameters: the model the intervals assume. */
function simulateEts(seed: number, n: number, season: 'additive' | 'multiplicative'): number[] {
  const rng = createRng(seed);
  const m = 12;
  const [alpha, beta, gamma, sigma] = [0.3, 0.05, 0.1, 1];
  let level = 100;
  let trend = 0.2;
  const s = Array.from({ length: m }, (_, i) => (season === 'additive' ? 8 * Math.sin((2 * Math.PI * i) / m) : 1 + 0.08 * Math.sin((2 * Math.PI * i) / m)));
  return Array.from({ length: n }, (_, t) => {
    const base = level + trend;
    const factor = s[t % m];
    const e = sigma * gaussian(rng);
    const y = (season === 'additive' ? base + factor : base * factor) + e;
    const r = season === 'additive' ? e : e / factor;
    s[t % m] += season === 'additive' ? gamma * e : (gamma * e) / base;
    level = base + alpha * r;
    trend += beta * r;
    return y;
  });
}

describe('forecastSeries auto selection', () => {
  it('finds the yearly season and the trend together on a CO2-like series, and beats the seasonal naive forecast', () => {
    const values = co2Like(1, 240);
    const train = values.slice(0, 216);
    const test = values.slice(216);

    const result = forecastSeries(train, { horizon: 24, holdout: 0 });

    expect(result.model.period).toBe(12);
    expect(result.model.kind).toBe('holt_winters');
    expect(result.model.trend).not.toBe('none');
    const naive = test.map((_, i) => train[216 - 12 + (i % 12)]);
    expect(mase(test, result.points.map((p) => p.mean), train, 12)).toBeLessThan(0.5 * mase(test, naive, train, 12));
  });

  it('on Mauna Loa CO2 finds period and trend and forecasts about as well as statsmodels ETS', () => {
    const co2 = readForecastFixture().series.find((s) => s.name === 'co2 monthly');
    if (!co2) throw new Error('the fixture lost its CO2 series');

    const result = forecastSeries(co2.train, { horizon: co2.horizon, timestamps: trainingTimestamps(co2), holdout: 0 });

    expect(result.model).toMatchObject({ kind: 'holt_winters', trend: 'additive', period: 12 });
    const ours = mase(co2.test, result.points.map((p) => p.mean), co2.train, 12);
    expect(ours).toBeLessThan(1.05 * mase(co2.test, co2.peer.mean, co2.train, 12));
    expect(ours).toBeLessThan(0.3 * mase(co2.test, seasonalNaiveMeans(co2), co2.train, 12));
  });

  it('forecasts white noise with a simple model, flat, even when the calendar suggests a weekly season', () => {
    const rng = createRng(7);
    const values = Array.from({ length: 400 }, () => 20 + gaussian(rng));
    const timestamps = values.map((_, i) => i * DAY);

    const result = forecastSeries(values, { horizon: 14, timestamps, holdout: 0 });

    expect(result.selection.periods).toContain(7);
    expect(result.model.kind).toBe('simple');
    expect(result.model.period).toBe(1);
    expect(Math.abs(result.points[13].mean - 20)).toBeLessThan(0.5);
  });

  it('falls back to the seasonal naive forecast when the chosen model loses to it from rolling origins', () => {
    const elnino = readForecastFixture().series.find((s) => s.name === 'elnino monthly');
    if (!elnino) throw new Error('the fixture lost its El Nino series');

    const result = forecastSeries(elnino.train, { horizon: elnino.horizon, timestamps: trainingTimestamps(elnino), holdout: 0 });
    const floor = result.selection.floor;

    expect(floor?.usedNaive).toBe(true);
    expect(floor?.modelMae).toBeGreaterThan(floor?.naiveMae ?? Infinity);
    expect(result.model).toMatchObject({ kind: 'seasonal_naive', period: 12, aicc: null });
    expect(result.points.map((p) => p.mean)).toEqual(seasonalNaiveMeans(elnino));
    // One season ahead the interval widens by sqrt(2): one more seasonal difference of error.
    const width = (i: number) => result.points[i].upper - result.points[i].lower;
    expect(width(12) / width(0)).toBeCloseTo(Math.SQRT2, 6);
  });

  it('keeps the fitted model when it beats the seasonal naive forecast from rolling origins', () => {
    const result = forecastSeries(co2Like(2), { horizon: 24, holdout: 0 });

    expect(result.selection.floor?.usedNaive).toBe(false);
    expect(result.model.kind).toBe('holt_winters');
  });

  it.each([
    ['additive', 'holt_winters', undefined],
    ['multiplicative', 'holt_winters', 'multiplicative'],
  ] as const)('with a %s season, 95-percent intervals cover about 95 percent of simulated ETS futures', (season, model, seasonal) => {
    let inside = 0;
    let total = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const values = simulateEts(seed, 132, season);
      const train = values.slice(0, 120);
      const result = forecastSeries(train, { horizon: 12, holdout: 0, ...(seasonal ? { model, seasonal, period: 12 } : {}) });
      inside += coverage(values.slice(120), result.points.map((p) => p.lower), result.points.map((p) => p.upper)) * 12;
      total += 12;
    }
    expect(inside / total).toBeGreaterThan(0.9);
    expect(inside / total).toBeLessThan(0.99);
  });

  it('lists every candidate it fitted with its AICc and keeps the lowest', () => {
    const result = forecastSeries(co2Like(3), { horizon: 12, holdout: 0 });

    const best = Math.min(...result.selection.candidates.map((c) => c.aicc));
    expect(result.model.aicc).toBe(best);
    expect(result.selection.candidates.map((c) => `${c.trend}/${c.season}`)).toEqual(
      expect.arrayContaining(['none/none', 'additive/none', 'damped/none', 'additive/additive', 'damped/multiplicative']),
    );
  });
});

describe('fitEts', () => {
  it('reaches at least statsmodels ETS(A,A,A) likelihood on CO2 (its least one-step SSE, 16.576)', () => {
    const co2 = readForecastFixture().series.find((s) => s.name === 'co2 monthly');
    if (!co2) throw new Error('the fixture lost its CO2 series');
    const spec: EtsSpec = { trend: 'additive', season: 'additive', period: 12 };

    expect(fitEts(co2.train, spec).sse).toBeLessThan(16.58);
  });

  it('recovers a noiseless trend and season exactly', () => {
    const values = Array.from({ length: 96 }, (_, t) => 10 + 0.5 * t + [3, -1, 2, -4][t % 4]);

    const fit = fitEts(values, { trend: 'additive', season: 'additive', period: 4 });

    expect(fit.sse).toBeLessThan(1e-8);
  });
});

describe('candidate periods', () => {
  it.each([
    [15 * 60_000, 96],
    [HOUR, 24],
    [DAY, 7],
    [7 * DAY, 52],
    [31 * DAY, 12],
    [91 * DAY, 4],
    [365 * DAY, 1],
    [0, 1],
  ])('a step of %i ms suggests a season of %i', (step, period) => {
    expect(calendarPeriod(step)).toBe(period);
  });

  it('finds the yearly season of a trending series from its differences, with no timestamps', () => {
    expect(candidatePeriods(co2Like(4))).toContain(12);
  });

  it('drops periods the series is too short to show twice', () => {
    expect(candidatePeriods(co2Like(5, 40), HOUR)).not.toContain(24);
  });
});
