import { catalog } from '../../shared/catalog.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { buildOpenApiDocument } from '../../shared/http/openapi.js';
import { openApiRoute } from '../../shared/gateway/contract.js';
import { platformConfig } from '../../shared/platform/config.js';

// Built once per container: the document only changes with a deploy.
const document = JSON.stringify(
  buildOpenApiDocument(
    catalog.flatMap((f) => (f.trigger.kind === 'http' ? [f.trigger.route] : [])),
    { version: platformConfig().SERVICE_VERSION },
  ),
);

export const handler = apiHandler(openApiRoute, async () => ({
  status: 200,
  text: document,
  headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' },
}));
