import { preprocessDataRoute } from '../../shared/data/api/contract.js';
import { preprocessInline } from '../../shared/data/api/inline.js';
import { apiHandler } from '../../shared/http/apiHandler.js';

export const handler = apiHandler(preprocessDataRoute, async ({ body }) => ({ status: 200, body: await preprocessInline(body, body.recipe) }));
