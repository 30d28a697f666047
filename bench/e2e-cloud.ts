/**
 * The child process of bench/dataset-pipeline-e2e.bench.ts: one embedded local cloud (dynalite,
 * s3rver, bus, Step Functions and every function, all in this process), as the integration tests
 * start it. The Plan function reads DATASET_SPLIT_BYTES and friends when its module loads, and a
 * process holds one local cloud, so each configuration runs in its own child with its own env.
 *
 * The parent uploads the file and polls the API (a client outside the cloud); this child registers
 * each dataset, times every pipeline function (by wrapping them in the state machine's function
 * map, the seam the integration tests use to inject failures), measures its own CPU and memory
 * between the parent's "uploaded" and "settled" messages, then reads back what the run produced.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';

export const childFlag = '--e2e-child';

export interface ChildRequest {
  tenant: string;
  /** One dataset per run, registered and processed one after the other in the same cloud. */
  datasetIds: string[];
  schema: unknown;
  /** Size of the file each run uploads: the upload URL is signed for it. */
  sizeBytes: number;
}

/** One function invocation as the state machine saw it, in epoch ms. */
export interface Invocation {
  fn: string;
  start: number;
  end: number;
  ok: boolean;
}

export interface RunResult {
  datasetId: string;
  /** The dataset as GET /datasets/{id} answers once settled. */
  dataset: { status: string; publishedRunId?: string; run?: { id: string }; rows?: { raw?: number; valid?: number; processed?: number }; quality?: unknown; failure?: unknown };
  plan?: { chunked: boolean; reason: string; chunks: number };
  /** Rows the Preprocess step says it wrote (the execution's output: the API's rows.processed is not filled). */
  preprocessRowsOut?: number;
  executionStatus?: string;
  executionError?: string;
  invocations: Invocation[];
  /** CPU time of the whole child (user + system, all threads) from "uploaded" to "settled". */
  cpuMs: number;
  rssBeforeMiB: number;
  /** Highest RSS sampled every 20 ms between "uploaded" and "settled" (a busy event loop delays samples). */
  sampledPeakRssMiB: number;
  /** getrusage's maxrss: the kernel's high-water mark over the child's life so far (updated lazily, it can lag a sample). */
  maxRssMiB: number;
  processed?: { sha256: string; bytes: number; lines: number };
  /** sha256 of the validation report with its keys sorted, and of the quality report's summary and findings. */
  validationSha?: string;
  qualitySha?: string;
  problems: string[];
}

export type ToChild = { type: 'uploaded' } | { type: 'settled' };
export type FromChild =
  | { type: 'upload'; datasetId: string; apiUrl: string; token: string; upload: { url: string; headers: Record<string, string> } }
  | { type: 'result'; run: RunResult }
  | { type: 'error'; message: string };

const MiB = 2 ** 20;
/** The parent starts this child with --expose-gc, so that "RSS before" does not carry the previous run's garbage. */
const gc = (globalThis as { gc?: () => void }).gc;

/** JSON with object keys sorted, so two equal reports hash the same whatever the order they were built in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

async function runChild(request: ChildRequest): Promise<void> {
  const inbox: ToChild[] = [];
  let waiting: ((m: ToChild) => void) | undefined;
  process.on('message', (m: ToChild) => (waiting ? (waiting(m), (waiting = undefined)) : inbox.push(m)));
  const next = (type: ToChild['type']) =>
    new Promise<void>((resolve, reject) => {
      const check = (m: ToChild) => (m.type === type ? resolve() : reject(new Error(`expected ${type}, got ${m.type}`)));
      const queued = inbox.shift();
      if (queued) check(queued);
      else waiting = check;
    });
  const send = (message: FromChild) => new Promise<void>((resolve) => process.send!(message, () => resolve()));

  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const { startLocalCloud } = await import('../local/cloud.js');
  type LocalFunction = import('../local/lambdaRuntime.js').LocalFunction;

  const problems: string[] = [];
  const cloud = await startLocalCloud({
    memory: true,
    keys: 'memory',
    port: 0,
    timeScale: 0.001,
    onProblem: (message, error) => problems.push(`${message}${error ? `: ${error instanceof Error ? error.message : String(error)}` : ''}`),
  });
  try {
    // Only now, once the cloud has set the functions' environment: shared/aws loads the module that
    // reads POWERTOOLS_METRICS_DISABLED, and loaded earlier it would make every function emit metrics.
    const { workflows } = await import('../shared/catalog.js');
    const { sagaDefinition, sagaFunctionNames } = await import('../shared/platform/saga.js');
    const { s3DatasetObjects } = await import('../shared/aws/datasetObjects.js');
    const { datasetKeys } = await import('../shared/data/registry/dataset.js');
    // Time each pipeline function: the same functions, wrapped, under the same names.
    const invocations: Invocation[] = [];
    const wrapped = new Map<string, LocalFunction>();
    for (const name of sagaFunctionNames(workflows.datasetPipeline)) {
      const real = cloud.functions.get(name)!;
      wrapped.set(name, {
        spec: real.spec,
        handler: async (event, context) => {
          const start = Date.now();
          let ok = false;
          try {
            const out = await real.handler(event, context);
            ok = true;
            return out;
          } finally {
            invocations.push({ fn: name, start, end: Date.now(), ok });
          }
        },
      });
    }
    cloud.stateMachines.register('datasetPipeline', sagaDefinition(workflows.datasetPipeline) as unknown as StateMachineDefinition, { functions: wrapped });

    const token = await cloud.mintToken({ tenant: request.tenant, scopes: ['telltale/read', 'telltale/data'] });
    const objects = s3DatasetObjects();
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
    sampler.unref();

    for (const datasetId of request.datasetIds) {
      const created = await fetch(`${cloud.url}/api/v1/datasets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id: datasetId, name: datasetId, schema: request.schema, fileName: 'data.csv', sizeBytes: request.sizeBytes }),
      });
      const body = (await created.json()) as { upload?: { url: string; headers: Record<string, string> } };
      if (created.status !== 201 || !body.upload) throw new Error(`registering ${datasetId}: ${created.status} ${JSON.stringify(body)}`);
      invocations.length = 0;
      gc?.();
      await send({ type: 'upload', datasetId, apiUrl: cloud.url, token, upload: body.upload });

      await next('uploaded');
      const rssBefore = process.memoryUsage.rss();
      peak = rssBefore;
      const cpu0 = process.cpuUsage();
      await next('settled');
      const cpu = process.cpuUsage(cpu0);
      peak = Math.max(peak, process.memoryUsage.rss());
      const maxRss = process.resourceUsage().maxRSS * 1024;
      await cloud.drain(60_000);

      const dataset = (await (await fetch(`${cloud.url}/api/v1/datasets/${datasetId}`, { headers: { authorization: `Bearer ${token}` } })).json()) as RunResult['dataset'];
      const execution = cloud.stateMachines.executions('datasetPipeline').find((e) => (JSON.parse(e.input) as { datasetId: string }).datasetId === datasetId);
      const steps = (execution?.output as { steps?: { Plan?: { output?: { chunked: boolean; reason: string; chunks: unknown[] } }; Preprocess?: { output?: { rowsOut: number } } } } | undefined)?.steps;
      const planOutput = steps?.Plan?.output;

      const keys = datasetKeys(request.tenant, datasetId).run(dataset.publishedRunId ?? dataset.run?.id ?? '');
      let processed: RunResult['processed'];
      if (dataset.status === 'READY') {
        const hash = createHash('sha256');
        let bytes = 0;
        let lines = 0;
        for await (const chunk of (await objects.read(keys.processed)) as Readable) {
          const buffer = chunk as Buffer;
          hash.update(buffer);
          bytes += buffer.length;
          for (let i = buffer.indexOf(10); i !== -1; i = buffer.indexOf(10, i + 1)) lines++;
        }
        processed = { sha256: hash.digest('hex'), bytes, lines };
      }
      const validation = await objects.getText(keys.validation);
      const quality = await objects.getText(keys.quality);
      const qualityReport = quality ? (JSON.parse(quality) as { summary: unknown; findings: { check: string; column?: string; severity: string; count?: number }[] }) : undefined;

      await send({
        type: 'result',
        run: {
          datasetId,
          dataset,
          plan: planOutput ? { chunked: planOutput.chunked, reason: planOutput.reason, chunks: planOutput.chunks.length } : undefined,
          preprocessRowsOut: steps?.Preprocess?.output?.rowsOut,
          executionStatus: execution?.status,
          executionError: execution?.error,
          invocations: [...invocations],
          cpuMs: (cpu.user + cpu.system) / 1000,
          rssBeforeMiB: rssBefore / MiB,
          sampledPeakRssMiB: peak / MiB,
          maxRssMiB: maxRss / MiB,
          processed,
          validationSha: validation ? sha(canonical(JSON.parse(validation))) : undefined,
          qualitySha: qualityReport
            ? sha(canonical({ summary: qualityReport.summary, findings: qualityReport.findings.map((f) => ({ check: f.check, column: f.column, severity: f.severity, count: f.count })) }))
            : undefined,
          problems: problems.splice(0),
        },
      });
    }
    clearInterval(sampler);
  } finally {
    await cloud.stop();
  }
}

if (process.argv.includes(childFlag)) {
  const request = JSON.parse(process.argv[process.argv.indexOf(childFlag) + 1]) as ChildRequest;
  runChild(request).then(
    () => process.exit(0),
    (error: unknown) => process.send!({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies FromChild, () => process.exit(1)),
  );
}
