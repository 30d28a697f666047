import { apiHandler } from '../../shared/http/apiHandler.js';
import { driftRoute } from '../../shared/ml/api/contract.js';
import { detectFeatureDrift } from '../../shared/ml/api/drift.js';
import { withHttpErrors } from '../../shared/ml/api/errors.js';

export const handler = apiHandler(driftRoute, async ({ body }) => ({ status: 200, body: withHttpErrors(() => detectFeatureDrift(body)) }));
