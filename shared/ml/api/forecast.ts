import { forecastSeries } from '../forecast/index.js';
import type { ForecastRequest, ForecastResponse } from './contract.js';
import { epochMillis, isoOf } from './timestamps.js';

/** POST /ml/forecast: the ETS family chosen by AICc over detected periods, floored by the naive seasonal forecast; intervals and hold-out error. */
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
      seasonal: request.seasonal,
      level: request.level,
      holdout: request.holdout,
      timestamps: times,
    },
  );
  return { ...result, points: result.points.map(({ timestamp, ...p }) => ({ ...p, timestamp: isoOf(timestamp ?? 0) })) };
}
