export { forecastSeries, type ForecastModel, type ForecastModelName, type ForecastOptions, type ForecastPoint, type ForecastResult, type HoldoutAccuracy, type ModelSelection } from './forecast.js';
export { fitEts, forecastEts, kindOf, type EtsFit, type EtsKind, type EtsParams, type EtsSpec, type IntervalPoint, type SeasonKind, type TrendKind } from './ets.js';
export { fitSeasonalNaive, forecastSeasonalNaive, type SeasonalNaive } from './seasonalNaive.js';
export { autocorrelation, calendarPeriod, candidatePeriods, detectPeriod, type DetectedPeriod, type PeriodOptions } from './period.js';
