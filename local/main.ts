/**
 * `npm start`: the embedded local cloud. Options:
 *   --port N        API port (default 4000; 0 picks a free one)
 *   --memory        keep DynamoDB and S3 in memory instead of under .telltale/
 *   --endpoint URL  use this AWS endpoint (e.g. LocalStack, http://localhost:4566) for DynamoDB and S3;
 *                   the same as TELLTALE_AWS_ENDPOINT=URL
 *   --verbose       handler logs at INFO (default WARN)
 *   --no-seed       do not register the demo sensors and dataset
 */
import { parseArgs } from 'node:util';
import { scopes } from '../shared/gateway/scopes.js';
import { startLocalCloud } from './cloud.js';
import { demoDatasetId, demoTenant, seedDemoData, seedDemoDataset } from './demoData.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4000' },
    memory: { type: 'boolean', default: false },
    endpoint: { type: 'string' },
    verbose: { type: 'boolean', default: false },
    'no-seed': { type: 'boolean', default: false },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`--port must be a port number, got ${values.port}`);
  process.exit(2);
}
const awsEndpoint = values.endpoint ?? process.env.TELLTALE_AWS_ENDPOINT;

const cloud = await startLocalCloud({
  port,
  memory: values.memory,
  awsEndpoint,
  preload: true,
  logLevel: values.verbose ? 'INFO' : (process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN'),
}).catch((error: NodeJS.ErrnoException) => {
  console.error(error.code === 'EADDRINUSE' ? `Port ${port} is in use; try --port 0 or another port.` : error);
  process.exit(1);
});

const token = await cloud.mintToken({ tenant: demoTenant, scopes: Object.values(scopes), ttlSeconds: 12 * 3600, subject: 'demo-user' });
const seeded = values['no-seed'] ? 0 : await seedDemoData(cloud.url, token);
const seededDataset = values['no-seed'] ? false : await seedDemoDataset(cloud.url, token);

console.log(`
Telltale local cloud is up.

  API            ${cloud.url}/api/v1
  Reference      ${cloud.url}/docs
  DynamoDB       ${cloud.endpoints.dynamoDb}${awsEndpoint ? ' (external)' : values.memory ? ' (dynalite, in memory)' : ' (dynalite, .telltale/dynamodb)'}
  S3             ${cloud.endpoints.s3}${awsEndpoint ? ' (external)' : values.memory ? ' (s3rver, temporary folder)' : ' (s3rver, .telltale/s3)'}
  Queues, bus    ${cloud.endpoints.messaging} (in process)
  Demo data      tenant "${demoTenant}", ${seeded} sensor(s) registered now; dataset ${demoDatasetId} ${seededDataset ? 'registered, its pipeline is running' : 'already there'}

Bearer token for tenant "${demoTenant}" with every scope (valid 12 h):

  export TOKEN=${token}

Try:

  curl -s -H "authorization: Bearer $TOKEN" ${cloud.url}/api/v1/sensors
  curl -s "${cloud.url}/api/v1/monitoring/health?deep=true"
  curl -s -H "authorization: Bearer $TOKEN" ${cloud.url}/api/v1/datasets/${demoDatasetId}
  curl -s -H "authorization: Bearer $TOKEN" "${cloud.url}/api/v1/data/quality-report?datasetId=${demoDatasetId}&format=html" > quality.html

Other tokens: npm run token -- --tenant acme --scope telltale/read,telltale/ingest
Ctrl-C stops everything.
`);

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the local cloud...`);
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
