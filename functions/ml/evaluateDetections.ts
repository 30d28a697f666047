import { apiHandler } from '../../shared/http/apiHandler.js';
import { evaluateRoute } from '../../shared/ml/api/contract.js';
import { withHttpErrors } from '../../shared/ml/api/errors.js';
import { evaluateDetections } from '../../shared/ml/api/evaluate.js';

export const handler = apiHandler(evaluateRoute, async ({ body }) => ({ status: 200, body: withHttpErrors(() => evaluateDetections(body)) }));
