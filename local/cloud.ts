import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { catalog, workflows, type FunctionDeclaration } from '../shared/catalog.js';
import { sagaDefinition } from '../shared/platform/saga.js';
import { buildOpenApiDocument } from '../shared/http/openapi.js';
import { functionEnvironment, type EnvironmentSettings, type PhysicalNames } from '../shared/platform/functionEnvironment.js';
import { buckets, bus as busDeclaration, queuePhysicalName, queues as queueDeclarations, tables } from '../shared/platform/resources.js';
import { EVENT_CLAIM_SECONDS } from '../shared/sensors/scoring.js';
import { createApiGateway, type LocalPages } from './apiGateway.js';
import { baselineModelsDir } from './baselineModels.js';
import { lockDataDir } from './dataDirLock.js';
import { repositoryRoot } from './paths.js';
import { docsPage } from './docsPage.js';
import { EventBus, type FailedEvent } from './eventBus.js';
import { startFaultProxy } from './faultProxy.js';
import { FaultPlan, faultKinds, withFunctionFaults, type FaultRule, type FaultService } from './faults.js';
import { catalogFunctions, invokeFunction, localRegion, type LocalFunction } from './lambdaRuntime.js';
import { createMessagingEndpoint } from './messagingEndpoint.js';
import { LocalOutbox } from './outbox.js';
import { LocalParameterStore } from './parameterStore.js';
import { provisionResources } from './provision.js';
import { QueueDispatcher, type DeadLetter } from './queueDispatcher.js';
import { LocalStateMachines, stateMachineArn } from './stateMachines.js';
import { startDynamoDb, startS3, type EmbeddedService } from './storage.js';
import { createTokenVerifier, generateSigningKeys, loadSigningKeys, mintToken, type SigningKeys, type TokenRequest } from './tokens.js';

export { repositoryRoot };

export interface LocalCloudOptions {
  /** Port of the API; 0 picks a free one. Default 0. */
  port?: number;
  host?: string;
  /** Keep DynamoDB and S3 in memory (a temporary folder for S3) instead of under `dataDir`. */
  memory?: boolean;
  /** Where on-disk data and the signing key live. Default `.telltale/` in the repository. */
  dataDir?: string;
  /**
   * Use this endpoint (e.g. LocalStack's http://localhost:4566) for DynamoDB and S3 instead of
   * starting dynalite and s3rver. Queues and the bus stay in process either way.
   */
  awsEndpoint?: string;
  /** The token signing key: kept under dataDir (default) or generated in memory. */
  keys?: 'disk' | 'memory';
  /** POWERTOOLS_LOG_LEVEL of the handlers. Default WARN (or what the environment says). */
  logLevel?: string;
  /** Multiplies queue and retry durations; tests use a small factor. Default 1. */
  timeScale?: number;
  /** Folder of the baseline models (MODELS_DIR); default: the layer build's, else trained once at start (./baselineModels.ts). */
  modelsDir?: string;
  /** Load every handler at start (reporting those that fail) instead of on first use. */
  preload?: boolean;
  /**
   * A fault plan (text form or rules, see ./faults.ts): the local services fail as AWS does.
   * Given (even empty), DynamoDB and S3 are reached through a fault-injecting proxy, so
   * `cloud.faults` can fail them later; without it only queues, the bus and functions can fail.
   */
  faults?: string | readonly FaultRule[];
  /** Seed of the fault plan's draws. Default 1. */
  faultSeed?: number;
  /** Tell about handler errors, failed batches and failed events (default: stderr). */
  onProblem?: (message: string, error?: unknown) => void;
  /**
   * Run what ships: load each function from its synthesized bundle (catalog name -> the bundle's
   * `index.mjs` under cdk.out), minified as deployed, instead of its TypeScript entry. Every catalog
   * function must have one.
   */
  bundles?: ReadonlyMap<string, string>;
}

export interface LocalCloud {
  /** Base URL of the API, e.g. http://127.0.0.1:4000 (routes are under /api/v1). */
  url: string;
  endpoints: { dynamoDb: string; s3: string; messaging: string };
  /** The physical names of tables, buckets, queues, the bus and state machines (functions get theirs in their environment). */
  names: PhysicalNames;
  /** A token signed with the cloud's key; the defaults make it valid. */
  mintToken(request: TokenRequest): Promise<string>;
  functions: ReadonlyMap<string, LocalFunction & { declaration: FunctionDeclaration }>;
  /** Step Functions in process: register a definition to run the executions handlers start. */
  stateMachines: LocalStateMachines;
  queues: QueueDispatcher;
  bus: EventBus;
  /** The live fault plan: change it while the cloud runs (`set`, `clear`), read what fired (`injected`). */
  faults: FaultPlan;
  /** Messages of a queue that exhausted maxReceiveCount. */
  deadLetters(queue: string): DeadLetter[];
  /** Events whose target kept failing after its retries. */
  failedEvents(): FailedEvent[];
  /** SNS's email and SMS and the webhook deliveries the local receiver took (shown at /local/outbox). */
  outbox: LocalOutbox;
  /** The local webhook receiver: alert rules may send their webhooks to `${webhookReceiver}/anything`. */
  webhookReceiver: string;
  /** Resolves once every queue is empty and no event is being delivered; rejects after timeoutMs. */
  drain(timeoutMs?: number): Promise<void>;
  /** Stops one embedded dependency, to see how the handlers cope with an outage. */
  stopService(name: 'dynamoDb' | 's3'): Promise<void>;
  stop(): Promise<void>;
}

const physical = (name: string) => `telltale-local-${name}`;
const physicalQueue = (name: keyof typeof queueDeclarations) => queuePhysicalName(queueDeclarations[name], physical(name));
let running = false;

/**
 * What the process gives every function, as the Lambda runtime (or LocalStack) does on AWS: region,
 * credentials, endpoints, Powertools switches. What a function is told about itself and its
 * bindings is its own, set around its load and invocations (functionEnvironment, as the stack sets it).
 */
function sharedEnvironment(endpoints: LocalCloud['endpoints'], credentials: { accessKeyId: string; secretAccessKey: string }, logLevel: string): Record<string, string> {
  return {
    AWS_REGION: localRegion,
    AWS_DEFAULT_REGION: localRegion,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamoDb,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_SQS: endpoints.messaging,
    AWS_ENDPOINT_URL_EVENTBRIDGE: endpoints.messaging,
    AWS_ENDPOINT_URL_SFN: endpoints.messaging,
    AWS_ENDPOINT_URL_SNS: endpoints.messaging,
    AWS_ENDPOINT_URL_SSM: endpoints.messaging,
    S3_FORCE_PATH_STYLE: 'true',
    // Powertools' logger is one per process here (shared/platform/observability.ts reads this at load).
    POWERTOOLS_SERVICE_NAME: 'telltale',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
    // With tracing off, X-Ray's automatic mode only adds an async hook to every promise in the process.
    AWS_XRAY_MANUAL_MODE: 'true',
    POWERTOOLS_LOG_LEVEL: logLevel,
  };
}

/** The local cloud's names of the resources, as the CDK's tokens name them on AWS. */
const localNames = (endpoints: LocalCloud['endpoints']): PhysicalNames => ({
  table: physical,
  bucket: physical,
  queue: (name) => `${endpoints.messaging}/000000000000/${physicalQueue(name)}`,
  bus: () => physical(busDeclaration.name),
  stateMachine: stateMachineArn,
});

/** What the stack tells every function about the deployment; the shell may set the version and the claim. */
const localSettings: EnvironmentSettings = {
  stage: 'local',
  serviceVersion: process.env.SERVICE_VERSION ?? '0.1.0',
  tenantClaim: process.env.TENANT_CLAIM ?? 'tenant',
};

/** Ticks below a second would only load the local services (tests scale time by 1/1000). */
const minimumTickMs = 1000;

/**
 * A schedule trigger on the local cloud: a timer that invokes the function with the scheduled
 * time, as EventBridge Scheduler does; a tick still running skips the next. Answers its stop.
 */
export function scheduleTimer(fn: LocalFunction, everyMs: number, report: (message: string, error?: unknown) => void): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    invokeFunction(fn, { source: 'telltale.schedule', 'detail-type': 'Scheduled Event', time: new Date().toISOString() })
      .catch((error: unknown) => report(`scheduled run of ${fn.spec.name} failed`, error))
      .finally(() => (running = false));
  }, Math.max(minimumTickMs, everyMs));
  timer.unref();
  return () => clearInterval(timer);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Starts the embedded local cloud: DynamoDB (dynalite) and S3 (s3rver) in process, tables and
 * buckets created from resources.ts, queues and the bus dispatched in process, and the catalog's
 * HTTP functions behind a local HTTP API that verifies tokens like API Gateway.
 *
 * Handlers read their environment at load and the SDK clients are per process, so one local
 * cloud runs per process.
 */
export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  if (running) throw new Error('A local cloud already runs in this process (handlers read their environment once).');
  running = true;
  const cleanups: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
    running = false;
  };
  try {
    const dataDir = options.dataDir ?? path.join(repositoryRoot, '.telltale');
    const report = options.onProblem ?? ((message: string, error?: unknown) => console.error(`[local cloud] ${message}`, error ?? ''));
    const timeScale = options.timeScale ?? 1;
    const proxied = options.faults !== undefined && !options.awsEndpoint;
    const faultServices = (Object.keys(faultKinds) as FaultService[]).filter((service) => proxied || (service !== 'dynamodb' && service !== 's3'));
    const faults = new FaultPlan(options.faults ?? [], options.faultSeed ?? 1, faultServices);

    const queues = new QueueDispatcher(
      Object.values(queueDeclarations).map((declaration) => ({ declaration, physicalName: physicalQueue(declaration.name) })),
      { timeScale, faults, onBatchFailure: (queue, fn, ids, error) => report(`${fn} failed ${ids.length} message(s) of queue ${queue}; they come back after the visibility timeout`, error) },
    );
    const bus = new EventBus({ name: physical(busDeclaration.name), timeScale, onDeliveryFailure: (f) => report(`rule ${f.rule} gave up on event ${f.event.id}: ${f.error}`) });
    // A saga that failed has recorded and logged why (its failure function): nothing to add. Any other
    // failed execution gets one line, its error and cause, not the runner's two stack traces.
    const stateMachines = new LocalStateMachines({
      timeScale,
      onFailure: (name, error) => {
        const failed = (error as { cause?: { name?: string; message?: string } }).cause;
        if (failed?.name !== 'SagaFailed') report(`state machine execution ${name} failed: ${failed?.name ?? 'Error'}: ${failed?.message ?? String(error)}`);
      },
    });
    cleanups.push(() => queues.stop(), () => bus.stop());

    const services = new Map<'dynamoDb' | 's3', EmbeddedService>();
    let credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
    let dynamoDbEndpoint: string;
    let s3Endpoint: string;
    if (options.awsEndpoint) {
      dynamoDbEndpoint = s3Endpoint = options.awsEndpoint;
    } else {
      // LevelDB and s3rver's folder take one process: say so, rather than dynalite's "Database is closed".
      if (!options.memory) cleanups.push(await lockDataDir(dataDir));
      const dynamoDb = await startDynamoDb(options.memory ? null : path.join(dataDir, 'dynamodb'));
      services.set('dynamoDb', dynamoDb);
      cleanups.push(() => dynamoDb.stop());
      // s3rver keeps no versions. The bucket on AWS is versioned, so every put gets a version id of
      // its own here, as there (reads cannot pin it: s3rver serves the latest bytes whatever the id).
      let puts = 0;
      const s3 = await startS3(options.memory ? null : path.join(dataDir, 's3'), (event) => {
        for (const record of event.Records) {
          const bucket = Object.values(buckets).find((b) => physical(b.name) === record.s3.bucket.name);
          if (!bucket?.eventBridge || !record.eventName.startsWith('ObjectCreated:')) continue;
          // The shape S3 sends to EventBridge when the bucket has EventBridge notifications on.
          bus.put({
            source: 'aws.s3',
            detailType: 'Object Created',
            resources: [`arn:aws:s3:::${record.s3.bucket.name}`],
            detail: {
              version: '0',
              bucket: { name: record.s3.bucket.name },
              object: {
                key: record.s3.object.key,
                size: record.s3.object.size ?? 0,
                etag: record.s3.object.eTag ?? '',
                'version-id': crypto.randomUUID().replace(/-/g, ''),
                // s3rver's sequencer is the millisecond, the same for puts within one: a count orders them.
                sequencer: `${record.s3.object.sequencer ?? Date.now().toString(16)}${(puts++).toString(16).padStart(8, '0')}`.toUpperCase(),
              },
              'request-id': crypto.randomUUID(),
              requester: '000000000000',
              'source-ip-address': '127.0.0.1',
              reason: record.eventName === 'ObjectCreated:Copy' ? 'CopyObject' : record.eventName === 'ObjectCreated:Post' ? 'PostObject' : 'PutObject',
            },
          });
        }
      });
      services.set('s3', s3);
      cleanups.push(() => s3.stop());
      dynamoDbEndpoint = dynamoDb.endpoint;
      s3Endpoint = s3.endpoint;
      // s3rver checks signatures against its own fixed key pair.
      credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
    }

    // SSM (webhook secrets) and SNS (email, SMS) in process; SNS messages land in the outbox.
    const parameters = new LocalParameterStore(options.memory || options.awsEndpoint ? undefined : path.join(dataDir, 'parameters.json'));
    const outbox = new LocalOutbox(() => parameters.secrets());
    const webhookReceiver = await outbox.startReceiver();
    cleanups.push(() => outbox.stop());
    const messaging = createMessagingEndpoint(queues, bus, stateMachines, faults, { operations: parameters.operations(), query: (params) => outbox.snsRequest(params) });
    const messagingEndpoint = await messaging.start();
    cleanups.push(() => messaging.stop());
    const endpoints = { dynamoDb: dynamoDbEndpoint, s3: s3Endpoint, messaging: messagingEndpoint };
    if (proxied) {
      // Functions (and presigned URLs) go through the proxies; provisioning below goes direct.
      const [dynamoDbProxy, s3Proxy] = await Promise.all([startFaultProxy('dynamodb', dynamoDbEndpoint, faults), startFaultProxy('s3', s3Endpoint, faults)]);
      cleanups.push(() => dynamoDbProxy.stop(), () => s3Proxy.stop());
      Object.assign(endpoints, { dynamoDb: dynamoDbProxy.endpoint, s3: s3Proxy.endpoint });
    }

    await provisionResources(
      { region: localRegion, credentials, dynamoDbEndpoint, s3Endpoint },
      {
        tables: Object.values(tables).map((declaration) => ({ physicalName: physical(declaration.name), declaration })),
        buckets: Object.values(buckets).map((declaration) => ({ physicalName: physical(declaration.name), declaration })),
      },
    );

    Object.assign(process.env, sharedEnvironment(endpoints, credentials, options.logLevel ?? process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN'));
    // The models layer's /opt/models on AWS (MODELS_DIR of the functions that use the layer).
    const modelsDir = options.modelsDir ?? (await baselineModelsDir());
    // Only now: handlers read their configuration when they load (on first use, or here with preload).
    const names = localNames(endpoints);
    const bundles = options.bundles;
    const unbundled = catalog.filter((declaration) => bundles && !bundles.has(declaration.name)).map((d) => d.name);
    if (unbundled.length > 0) throw new Error(`No bundle given for ${unbundled.join(', ')}`);
    const functions = catalogFunctions(catalog, repositoryRoot, {
      environmentOf: (declaration) => ({
        ...functionEnvironment(declaration, localSettings, names),
        // The scorers' claims to publish an event last a fraction of the scoring queues' visibility timeout: scaled with it.
        ...(declaration.binds.tables?.anomalies === 'readWrite' ? { EVENT_CLAIM_SECONDS: String(EVENT_CLAIM_SECONDS * timeScale) } : {}),
        ...(declaration.usesModelsLayer ? { MODELS_DIR: modelsDir } : {}),
      }),
      ...(bundles ? { moduleOf: (declaration) => bundles.get(declaration.name)! } : {}),
    });
    for (const fn of functions.values()) fn.handler = withFunctionFaults(fn, faults);
    if (options.preload) {
      await Promise.all([...functions.values()].map((fn) => fn.load().catch((error: unknown) => report(`function ${fn.declaration.name} failed to load; its invocations fail`, error))));
    }
    stateMachines.attach(functions);
    for (const [name, saga] of Object.entries(workflows)) stateMachines.register(name, sagaDefinition(saga) as unknown as StateMachineDefinition);

    for (const fn of functions.values()) {
      const trigger = fn.declaration.trigger;
      if (trigger.kind === 'queue') queues.subscribe(trigger.queue, { fn, batchSize: trigger.batchSize, maxBatchingWindowSeconds: trigger.maxBatchingWindowSeconds });
      if (trigger.kind === 'event') bus.addRule({ name: `${fn.declaration.name}Rule`, detailTypes: trigger.detailTypes, source: trigger.source, fn });
      if (trigger.kind === 'schedule') cleanups.push(scheduleTimer(fn, trigger.everyMinutes * 60_000 * timeScale, report));
      if (trigger.kind === 'objectCreated') {
        const bucketName = physical(buckets[trigger.bucket].name);
        // EventBridge wildcard matching: `*` is any run of characters, everything else literal.
        const keyPattern = new RegExp(`^${trigger.keyPattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
        bus.addRule({
          name: `${fn.declaration.name}Rule`,
          detailTypes: ['Object Created'],
          source: 'aws.s3',
          matchesDetail: (detail) => {
            const d = detail as { bucket?: { name?: string }; object?: { key?: string } };
            return d.bucket?.name === bucketName && keyPattern.test(d.object?.key ?? '');
          },
          fn,
        });
      }
    }

    const keys: SigningKeys = options.keys === 'memory' ? await generateSigningKeys() : await loadSigningKeys(path.join(dataDir, 'keys'));
    const httpRoutes = [...functions.values()].flatMap((fn) => (fn.declaration.trigger.kind === 'http' ? [{ route: fn.declaration.trigger.route, fn }] : []));
    let docs: string | undefined;
    const pages: LocalPages = (request, response, url) => {
      const json = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (request.method !== 'GET') return false;
      if (url.pathname === '/') {
        response.writeHead(302, { location: '/docs' });
        response.end();
        return true;
      }
      if (url.pathname === '/docs') {
        docs ??= docsPage(buildOpenApiDocument(httpRoutes.map((r) => r.route), { version: process.env.SERVICE_VERSION ?? '0.1.0' }), {
          tokenCommand: 'npm run token -- --tenant demo --scope telltale/read',
        });
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        response.end(docs);
        return true;
      }
      if (url.pathname === '/.well-known/jwks.json') return (json(200, { keys: [keys.publicJwk] }), true);
      if (url.pathname === '/_local/queues') {
        return (json(200, Object.fromEntries(Object.values(queueDeclarations).map((q) => [q.name, queues.stats(q.name)]))), true);
      }
      const deadLetters = url.pathname.match(/^\/_local\/queues\/([\w-]+)\/dead-letters$/);
      if (deadLetters && queues.queue(deadLetters[1])) return (json(200, { items: queues.deadLetters(deadLetters[1]) }), true);
      if (url.pathname === '/_local/events/failed') return (json(200, { items: bus.failedEvents() }), true);
      if (url.pathname === '/local/outbox.json') return (json(200, { items: outbox.entries() }), true);
      if (url.pathname === '/local/outbox') {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        response.end(outbox.page());
        return true;
      }
      return false;
    };

    const api = createApiGateway({
      routes: httpRoutes,
      verifyToken: createTokenVerifier(keys),
      pages,
      onHandlerError: (error, routeKey) => report(`${routeKey} failed`, error),
    });
    await new Promise<void>((resolve, reject) => api.once('error', reject).listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve()));
    cleanups.push(() => closeServer(api));
    const url = `http://${options.host ?? '127.0.0.1'}:${(api.address() as AddressInfo).port}`;

    return {
      url,
      endpoints,
      names,
      mintToken: (request) => mintToken(keys, request),
      functions,
      stateMachines,
      queues,
      bus,
      faults,
      deadLetters: (queue) => queues.deadLetters(queue),
      failedEvents: () => bus.failedEvents(),
      outbox,
      webhookReceiver,
      async drain(timeoutMs = 30_000) {
        const until = Date.now() + timeoutMs;
        while (!(queues.idle() && bus.idle() && stateMachines.idle())) {
          if (Date.now() > until) throw new Error(`Queues and bus still busy after ${timeoutMs} ms`);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      },
      async stopService(name) {
        const service = services.get(name);
        if (!service) throw new Error(`${name} is not embedded (an external endpoint is in use)`);
        await service.stop();
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
