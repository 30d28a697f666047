/**
 * POST /ml/predict speed. In process: the real handler (middy stack, JWT claims, zod, onnxruntime
 * session cached per container) on the layer's baseline models, 1 and 100 rows. Cold start proxy:
 * the handler bundled as for Lambda (esbuild, ESM, createRequire banner, onnxruntime-node and the
 * AWS SDK external), run by a fresh Node process that imports it, creates the session and answers
 * one request.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { build } from 'esbuild';
import { writeBaselineModel } from '../layers/build.js';
import { claimsFor, httpEvent, lambdaContext } from '../test/fixtures/lambda.js';
import { percentile, table, type BenchSection } from './harness.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const aim = (ok: boolean) => (ok ? 'yes' : '**no**');
const ms = (x: number) => x.toFixed(3);

function requestEvent(modelId: string, rows: number) {
  const data = Array.from({ length: rows }, (_, r) => Array.from({ length: 8 }, (_, c) => Math.sin(r + c) * 1.5));
  return httpEvent({ method: 'POST', path: '/api/v1/ml/predict', body: JSON.stringify({ modelId, rows: data }), claims: claimsFor('bench', 'telltale/read') });
}

type Handler = (event: unknown, context: unknown) => Promise<APIGatewayProxyStructuredResultV2>;

async function latencies(handler: Handler, modelId: string, rows: number, iterations: number): Promise<number[]> {
  const event = requestEvent(modelId, rows);
  const once = async () => {
    const response = await handler(structuredClone(event), lambdaContext);
    if (response.statusCode !== 200) throw new Error(`predict answered ${response.statusCode}: ${response.body}`);
  };
  for (let i = 0; i < 300; i++) await once();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    await once();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return times.sort((a, b) => a - b);
}

const childScript = `
const started = performance.now();
const { handler } = await import('./predict.mjs');
const imported = performance.now();
const event = JSON.parse(process.env.BENCH_EVENT);
const response = await handler(event, JSON.parse(process.env.BENCH_CONTEXT));
const answered = performance.now();
console.log('BENCH ' + JSON.stringify({ status: response.statusCode, importMs: imported - started, firstRequestMs: answered - imported, sinceProcessStartMs: answered }));
`;

interface ColdRun {
  status: number;
  importMs: number;
  firstRequestMs: number;
  sinceProcessStartMs: number;
  wallMs: number;
}

function coldRun(dir: string, env: NodeJS.ProcessEnv): Promise<ColdRun> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [path.join(dir, 'child.mjs')], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('BENCH '));
      if (code !== 0 || !line) return reject(new Error(`cold start child failed (${code}): ${err || out}`));
      resolve({ ...(JSON.parse(line.slice(6)) as Omit<ColdRun, 'wallMs'>), wallMs: performance.now() - t0 });
    });
  });
}

export default async function predictBench(): Promise<BenchSection> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'predict-bench-'));
  try {
    const modelsDir = path.join(dir, 'models');
    writeBaselineModel('pca', modelsDir);
    writeBaselineModel('autoencoder', modelsDir);
    const env = { TABLE_MODELS: 'bench-models', BUCKET_MODELS: 'bench-models', MODELS_DIR: modelsDir, MODELS_CACHE_DIR: path.join(dir, 'cache'), AWS_REGION: 'us-east-1', POWERTOOLS_LOG_LEVEL: 'WARN' };

    // In process. Metrics are switched off here: their EMF line per request goes to stdout, which on Lambda is the log pipe.
    Object.assign(process.env, env, { POWERTOOLS_METRICS_DISABLED: 'true' });
    const { handler } = (await import('../functions/ml/predict.js')) as unknown as { handler: Handler };
    const rows: (string | number)[][] = [];
    let onePca = Number.NaN;
    for (const modelId of ['baseline-pca', 'baseline-autoencoder']) {
      for (const [batch, iterations] of [
        [1, 5000],
        [100, 2000],
      ] as const) {
        const t = await latencies(handler, modelId, batch, iterations);
        const p95 = percentile(t, 95);
        if (modelId === 'baseline-pca' && batch === 1) onePca = p95;
        rows.push([modelId, batch, ms(percentile(t, 50)), ms(p95), ms(percentile(t, 99)), batch === 1 ? aim(p95 < 1) : '-']);
      }
    }

    // Cold start proxy: bundle as the CDK does, then fresh processes.
    await build({
      entryPoints: [path.join(root, 'functions/ml/predict.ts')],
      outfile: path.join(dir, 'predict.mjs'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      minify: true,
      banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
      external: ['onnxruntime-node', '@aws-sdk/*'],
      logLevel: 'error',
    });
    writeFileSync(path.join(dir, 'child.mjs'), childScript);
    // The bundle finds onnxruntime-node and the SDK as Lambda finds them in the layer and the runtime.
    symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    const bundleKb = Number(execFileSync('du', ['-k', path.join(dir, 'predict.mjs')]).toString().split('\t')[0]);
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, POWERTOOLS_METRICS_DISABLED: 'false', BENCH_EVENT: JSON.stringify(requestEvent('baseline-pca', 1)), BENCH_CONTEXT: JSON.stringify(lambdaContext) };
    delete childEnv.NODE_OPTIONS;
    const runs: ColdRun[] = [];
    for (let i = 0; i < 7; i++) runs.push(await coldRun(dir, childEnv));
    if (runs.some((r) => r.status !== 200)) throw new Error(`a cold request answered ${runs.map((r) => r.status).join(', ')}`);
    const median = (pick: (r: ColdRun) => number) => percentile(runs.map(pick).sort((a, b) => a - b), 50);
    const coldTotal = median((r) => r.sinceProcessStartMs);

    return {
      title: 'Predict (POST /ml/predict)',
      glance: [
        { measure: 'predict, 1 row, baseline-pca, in process', aim: 'p95 < 1 ms', measured: `p95 ${ms(onePca)} ms${onePca < 1 ? '' : ': **short**'}` },
        { measure: 'predict cold-start proxy (import, session, first answer)', aim: '< 300 ms', measured: `${coldTotal.toFixed(0)} ms${coldTotal < 300 ? '' : ': **short**'}` },
      ],
      markdown: [
        'In process: the predict handler (middy stack, claims, zod, the container\'s onnxruntime session) on the baseline models of the layer, 8 features; milliseconds per request. Powertools metrics off in process (an EMF line per request).',
        '',
        table(['model', 'rows', 'p50 ms', 'p95 ms', 'p99 ms', 'aim p95 < 1 ms'], rows),
        '',
        `Cold start proxy: a fresh \`node\` imports the bundled handler (${bundleKb} KB ESM, onnxruntime-node and the AWS SDK external as on Lambda), creates the session of baseline-pca and answers one 1-row request; median of ${runs.length} runs.`,
        '',
        table(
          ['import bundle ms', 'first request (session + answer) ms', 'process start to answer ms', 'wall clock incl. spawn ms', 'aim < 300 ms'],
          [[median((r) => r.importMs).toFixed(1), median((r) => r.firstRequestMs).toFixed(1), coldTotal.toFixed(1), median((r) => r.wallMs).toFixed(1), aim(coldTotal < 300)]],
        ),
        '',
        `One-row p95 on baseline-pca: ${ms(onePca)} ms. Lambda adds its own init (runtime start, layer mount) to the cold figure; the proxy measures what our code and onnxruntime cost.`,
      ].join('\n'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
