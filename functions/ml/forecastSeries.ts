import { apiHandler } from '../../shared/http/apiHandler.js';
import { forecastRoute } from '../../shared/ml/api/contract.js';
import { withHttpErrors } from '../../shared/ml/api/errors.js';
import { forecastReadings } from '../../shared/ml/api/forecast.js';

export const handler = apiHandler(forecastRoute, async ({ body }) => ({ status: 200, body: withHttpErrors(() => forecastReadings(body)) }));
