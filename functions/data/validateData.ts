import { validateDataRoute } from '../../shared/data/api/contract.js';
import { validateInline } from '../../shared/data/api/inline.js';
import { apiHandler } from '../../shared/http/apiHandler.js';

export const handler = apiHandler(validateDataRoute, async ({ body }) => ({ status: 200, body: await validateInline(body, body.maxRowErrors) }));
