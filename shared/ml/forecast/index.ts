export { forecastSeries, type ForecastOptions, type ForecastPoint, type ForecastResult, type HoldoutAccuracy } from './forecast.js';
export { fitEts, forecastEts, type EtsFit, type EtsKind, type EtsParams, type EtsSpec } from './ets.js';
export { autocorrelation, detectPeriod, type DetectedPeriod, type PeriodOptions } from './period.js';
