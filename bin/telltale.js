#!/usr/bin/env node
// The telltale CLI. In a checkout with the dev tools (tsx), the TypeScript source runs as is, so it is never
// stale; without them (npm ci --omit=dev) the build in dist/, which `npm run build:cli` writes and install runs.
let fromSource = true;
try {
  const { register } = await import('tsx/esm/api');
  register();
} catch {
  fromSource = false;
}
if (fromSource) await import('./main.ts');
else await import('../dist/telltale.mjs');
