import { apiHandler } from '../../shared/http/apiHandler.js';
import { detectRoute } from '../../shared/ml/api/contract.js';
import { detectAnomalies } from '../../shared/ml/api/detect.js';
import { withHttpErrors } from '../../shared/ml/api/errors.js';

export const handler = apiHandler(detectRoute, async ({ body }) => ({ status: 200, body: withHttpErrors(() => detectAnomalies(body)) }));
