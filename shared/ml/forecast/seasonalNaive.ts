import { normalQuantile } from '../streaming/stats.js';
import type { IntervalPoint } from './ets.js';

/** The naive seasonal forecast: the last observed season repeated (the last value, with period 1). */
export interface SeasonalNaive {
  period: number;
  /** The last `period` observations. */
  lastSeason: number[];
  /** Root mean square of the in-sample seasonal differences y_t - y_{t-period}. */
  sigma: number;
}

export function fitSeasonalNaive(values: readonly number[], period: number): SeasonalNaive {
  let ss = 0;
  for (let t = period; t < values.length; t++) ss += (values[t] - values[t - period]) ** 2;
  return { period, lastSeason: values.slice(values.length - period), sigma: Math.sqrt(ss / Math.max(1, values.length - period)) };
}

/** Forecasts with normal intervals: the error h steps ahead adds one seasonal-difference variance per season crossed. */
export function forecastSeasonalNaive(model: SeasonalNaive, horizon: number, level: number): IntervalPoint[] {
  const z = normalQuantile(0.5 + level / 2);
  return Array.from({ length: horizon }, (_, i) => {
    const mean = model.lastSeason[i % model.period];
    const half = z * model.sigma * Math.sqrt(Math.floor(i / model.period) + 1);
    return { mean, lower: mean - half, upper: mean + half };
  });
}
