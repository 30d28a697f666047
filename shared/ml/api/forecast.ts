import { forecastSeries } from '../forecast/index.js';
import type { ForecastRequest, ForecastResponse } from './contract.js';
import { epochMillis, isoOf } from './timestamps.js';

/** POST /ml/forecast: the ETS family with automatic period detection, intervals, and hold-out error against naive seasonal. */
export function forecastReadings(request: ForecastRequest): ForecastResponse {
  const times = epochMillis(
    request.series.map((p) => p.timestamp),
    (i) => `body.series.${i}.timestamp`,
  );
  const result = forecastSeries(
    request.series.map((p) => p.value),
    {
      horizon: request.horizon,
      period: request.period,
      model: request.model,
      damped: request.damped,
      level: request.level,
      holdout: request.holdout,
      timestamps: times,
    },
  );
  return { ...result, points: result.points.map(({ timestamp, ...p }) => ({ ...p, timestamp: isoOf(timestamp ?? 0) })) };
}
