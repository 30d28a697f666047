/** A readable API reference rendered from the OpenAPI document: no CDN, no client-side code. */

type Json = Record<string, unknown>;

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pretty = (schema: unknown) => `<pre>${escape(JSON.stringify(schema, null, 2))}</pre>`;

function operationHtml(method: string, path: string, op: Json): string {
  const security = op.security as { bearerAuth?: string[] }[] | undefined;
  const scope = security?.[0]?.bearerAuth?.[0];
  const parameters = (op.parameters as Json[] | undefined) ?? [];
  const body = (op.requestBody as { content?: Record<string, { schema: unknown }> } | undefined)?.content?.['application/json']?.schema;
  const responses = Object.entries((op.responses as Record<string, Json>) ?? {});
  return `<section class="op" id="${escape(String(op.operationId))}">
  <h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${escape(path)}</code></h3>
  <p>${escape(String(op.summary ?? ''))}</p>
  <p class="auth">${scope ? `Bearer token with scope <code>${escape(scope)}</code>` : 'Public: no token'}</p>
  ${
    parameters.length
      ? `<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th><th>schema</th><th>description</th></tr>${parameters
          .map((p) => `<tr><td><code>${escape(String(p.name))}</code></td><td>${escape(String(p.in))}</td><td>${p.required ? 'yes' : 'no'}</td><td><code>${escape(JSON.stringify(p.schema))}</code></td><td>${escape(String(p.description ?? ''))}</td></tr>`)
          .join('')}</table>`
      : ''
  }
  ${body ? `<details><summary>Request body (application/json)</summary>${pretty(body)}</details>` : ''}
  <h4>Responses</h4><ul>${responses
    .map(([status, r]) => {
      const content = r.content as Record<string, { schema: unknown }> | undefined;
      const media = content ? Object.keys(content) : [];
      const schema = media.length ? content![media[0]].schema : undefined;
      return `<li><b>${escape(status)}</b> ${escape(String(r.description ?? ''))}${media.length ? ` <small>${escape(media.join(', '))}</small>` : ''}${schema ? `<details><summary>schema</summary>${pretty(schema)}</details>` : ''}</li>`;
    })
    .join('')}</ul>
</section>`;
}

export function docsPage(document: Json, hints: { tokenCommand: string }): string {
  const info = document.info as Json;
  const paths = document.paths as Record<string, Record<string, Json>>;
  const byTag = new Map<string, string[]>();
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(operations)) {
      const tag = ((op.tags as string[] | undefined) ?? ['other'])[0];
      byTag.set(tag, [...(byTag.get(tag) ?? []), operationHtml(method, path, op)]);
    }
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(String(info.title))} ${escape(String(info.version))}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{margin-bottom:0}code,pre{font:13px ui-monospace,monospace}pre{background:#f6f8fa;padding:.75rem;overflow:auto}
.op{border:1px solid #ddd;border-radius:6px;padding:.25rem 1rem;margin:1rem 0}
.method{display:inline-block;min-width:4.5rem;text-align:center;color:#fff;border-radius:4px;padding:0 .4rem;font-size:13px}
.get{background:#2b7bb9}.post{background:#3c9b48}.patch,.put{background:#c28a14}.delete{background:#c0392b}
.auth{color:#555;font-size:13px}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}
</style></head><body>
<h1>${escape(String(info.title))} <small>${escape(String(info.version))}</small></h1>
<p>${escape(String(info.description ?? ''))}</p>
<p>Get a token with <code>${escape(hints.tokenCommand)}</code>. The machine-readable document is at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>
${[...byTag.entries()].map(([tag, ops]) => `<h2>${escape(tag)}</h2>${ops.join('\n')}`).join('\n')}
</body></html>`;
}
