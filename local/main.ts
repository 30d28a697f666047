/**
 * `npm start`: the embedded local cloud. `npm start -- --help` lists the flags.
 */
import path from 'node:path';
import { parseCommandLine, usageError } from './commandLine.js';
import { DataDirLockedError } from './dataDirLock.js';
import { FaultPlanError } from './faults.js';
import { repositoryRoot } from './paths.js';

const usage = `Usage: npm start -- [options]

Starts the embedded local cloud (API, DynamoDB, S3, queues, bus, state machines) in one process.

Options:
  --port N          API port (default 4000; 0 picks a free one)
  --memory          keep DynamoDB and S3 in memory (a temporary folder for S3): nothing is kept
  --data-dir DIR    keep data and the signing key under DIR (default .telltale/ in the repository)
  --endpoint URL    use this AWS endpoint for DynamoDB and S3 (e.g. LocalStack, http://localhost:4566)
                    instead of the embedded ones; the same as TELLTALE_AWS_ENDPOINT=URL
  --faults PLAN     make the local services fail as AWS does, e.g. 'dynamodb:PutItem=throttle@0.3,s3:GetObject=500@0.1'
                    (see "Faults" in the README); the same as TELLTALE_FAULTS=PLAN, seeded by TELLTALE_FAULTS_SEED (default 1)
  --verbose         handler logs at INFO (default WARN, or POWERTOOLS_LOG_LEVEL)
  --no-seed         do not register the demo sensors and dataset
  --no-simulate     do not feed the demo tenant live readings from the plant simulator
  -h, --help        this text`;

const values = parseCommandLine(
  {
    port: { type: 'string', default: '4000' },
    memory: { type: 'boolean', default: false },
    'data-dir': { type: 'string' },
    endpoint: { type: 'string' },
    faults: { type: 'string' },
    verbose: { type: 'boolean', default: false },
    'no-seed': { type: 'boolean', default: false },
    'no-simulate': { type: 'boolean', default: false },
  },
  usage,
);

const port = Number(values.port);
if (!/^\d+$/.test(values.port) || port > 65_535) usageError(`--port must be a port number, got ${values.port}`, usage);
if (values.memory && values['data-dir']) usageError('--memory and --data-dir exclude each other', usage);
const awsEndpoint = values.endpoint ?? process.env.TELLTALE_AWS_ENDPOINT;
const faults = values.faults ?? process.env.TELLTALE_FAULTS;
const faultSeed = Number(process.env.TELLTALE_FAULTS_SEED ?? 1);
if (!Number.isInteger(faultSeed)) usageError(`TELLTALE_FAULTS_SEED must be an integer, got ${process.env.TELLTALE_FAULTS_SEED}`, usage);

/** A path as the user would type it: relative when under the working folder. */
const shown = (target: string) => (path.relative(process.cwd(), target).startsWith('..') ? target : path.relative(process.cwd(), target) || '.');
const dataDir = values['data-dir'] ? path.resolve(values['data-dir']) : path.join(repositoryRoot, '.telltale');

// Loaded once the command line is read: every handler's module comes with them, so --help stays quick.
const [{ startLocalCloud }, { scopes }, { demoAlertRuleName, demoDatasetId, demoTenant, seedDemoAlertRule, seedDemoData, seedDemoDataset }, { startSimulation }] = await Promise.all([
  import('./cloud.js'),
  import('../shared/gateway/scopes.js'),
  import('./demoData.js'),
  import('../bin/simulate.js'),
]);

const cloud = await startLocalCloud({
  port,
  memory: values.memory,
  dataDir,
  awsEndpoint,
  ...(faults ? { faults, faultSeed } : {}),
  // A folder of your own baseline models (layers/README.md), else the local cloud's.
  ...(process.env.MODELS_DIR ? { modelsDir: process.env.MODELS_DIR } : {}),
  preload: true,
  logLevel: values.verbose ? 'INFO' : (process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN'),
}).catch((error: NodeJS.ErrnoException) => {
  if (error instanceof FaultPlanError) usageError(error.message, usage);
  const known = error.code === 'EADDRINUSE' ? `Port ${port} is in use; try --port 0 or another port.` : error instanceof DataDirLockedError ? error.message : undefined;
  console.error(known ?? error);
  process.exit(1);
});

const token = await cloud.mintToken({ tenant: demoTenant, scopes: Object.values(scopes), ttlSeconds: 12 * 3600, subject: 'demo-user' });
const seeded = values['no-seed'] ? 0 : await seedDemoData(cloud.url, token);
const seededDataset = values['no-seed'] ? false : await seedDemoDataset(cloud.url, token);
const seededRule = values['no-seed'] ? undefined : await seedDemoAlertRule(cloud.url, token, `${cloud.webhookReceiver}/demo`);

// Live readings for the demo tenant: a simulated plant, with 7 minutes of history sent at once so
// the detectors are warm, and its first fault (an anomaly episode opening) a minute after start.
const clock = (iso: string) => iso.slice(11, 19);
const simulation = values['no-simulate']
  ? undefined
  : startSimulation({
      url: cloud.url,
      token,
      backfillSeconds: 420,
      onFault: ({ event, fault }) => console.log(`[simulator] ${clock(event === 'fault.started' ? fault.from : fault.to)} ${event === 'fault.started' ? 'starts' : 'ends'}: ${fault.kind} on ${fault.sensorIds.join(', ')}`),
      log: (message) => console.error(`[simulator] ${message}`),
    });
simulation?.done.catch((error: unknown) => console.error('[simulator] stopped:', error instanceof Error ? error.message : error));
const firstFault = simulation?.faults.reduce((a, b) => (b.from < a.from ? b : a));
const watched = firstFault?.sensorIds[0] ?? simulation?.sensors[0]?.id;

console.log(`
Telltale local cloud is up.

  API            ${cloud.url}/api/v1
  Reference      ${cloud.url}/docs
  DynamoDB       ${cloud.endpoints.dynamoDb}${awsEndpoint ? ' (external)' : values.memory ? ' (dynalite, in memory)' : ` (dynalite, ${shown(path.join(dataDir, 'dynamodb'))})`}
  S3             ${cloud.endpoints.s3}${awsEndpoint ? ' (external)' : values.memory ? ' (s3rver, temporary folder)' : ` (s3rver, ${shown(path.join(dataDir, 's3'))})`}${faults ? `\n  Faults         ${cloud.faults.describe()} (seed ${faultSeed}; DynamoDB and S3 through fault proxies)` : ''}
  Queues, bus    ${cloud.endpoints.messaging} (in process)
  Demo data      tenant "${demoTenant}", ${seeded} sensor(s) registered now; dataset ${demoDatasetId} ${seededDataset ? 'registered, its pipeline is running' : 'already there'}
  Alerts         ${seededRule ? `rule "${demoAlertRuleName}" (${seededRule}): an anomaly opening on pump 1 emails maintenance (SNS) and posts a signed webhook` : 'no demo rule (--no-seed)'}
  Outbox         ${cloud.url}/local/outbox (email and SMS SNS would send, webhooks the local receiver at ${cloud.webhookReceiver} took)
  Live readings  ${simulation ? `a simulated plant (${simulation.sensors.length} sensors, one reading a second each); first fault at ${clock(firstFault!.from)} UTC (${firstFault!.kind} on ${firstFault!.sensorIds.join(', ')}), then one every few minutes` : 'off (--no-simulate)'}

Bearer token for tenant "${demoTenant}" with every scope (valid 12 h):

  export TOKEN=${token}

Try:

  curl -s -H "authorization: Bearer $TOKEN" ${cloud.url}/api/v1/sensors
  curl -s "${cloud.url}/api/v1/monitoring/health?deep=true"
  curl -s -H "authorization: Bearer $TOKEN" ${cloud.url}/api/v1/datasets/${demoDatasetId}
  curl -s -H "authorization: Bearer $TOKEN" "${cloud.url}/api/v1/data/quality-report?datasetId=${demoDatasetId}&format=html" > quality.html
  curl -s -H "authorization: Bearer $TOKEN" "${cloud.url}/api/v1/monitoring/metrics?step=5m"   # the tenant's figures: readings, lag, episodes, pipeline runs${
    simulation
      ? `

Live monitoring (anomaly episodes open by themselves about a minute after start):

  curl -s -H "authorization: Bearer $TOKEN" "${cloud.url}/api/v1/anomalies?status=open"
  curl -s -H "authorization: Bearer $TOKEN" "${cloud.url}/api/v1/sensors/${watched}/readings?maxPoints=120"
  curl -s -H "authorization: Bearer $TOKEN" ${cloud.url}/api/v1/monitoring/alerts      # then open ${cloud.url}/local/outbox`
      : ''
  }

Other tokens: npm run token -- --tenant acme --scope telltale/read,telltale/ingest
Ctrl-C stops everything.
`);

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the local cloud...`);
  simulation?.stop();
  cloud.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
