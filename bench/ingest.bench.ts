/**
 * Reading ingestion. In process: the POST /readings handler (middy stack, JWT claims, zod, the
 * per-reading checks, the cached registry, SendMessageBatch) with SQS and DynamoDB answered by
 * aws-sdk-client-mock, so only our own work is timed. Write units: the DynamoDB readings store on
 * dynalite, summing the ConsumedCapacity of every write. End to end: the embedded local cloud
 * (HTTP API, handler, ingest queue, storeReadings, dynalite), readings sent over HTTP until the
 * queues drain, then every reading counted back through GET /sensors/{id}/readings.
 */
import os from 'node:os';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyStructuredResultV2, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createTableInput } from '../local/provision.js';
import { startLocalCloud, type LocalCloud } from '../local/cloud.js';
import { tables } from '../shared/platform/resources.js';
import { claimsFor, httpEvent, lambdaContext } from '../test/fixtures/lambda.js';
import { table, type BenchSection } from './harness.js';

const t0 = Date.UTC(2026, 0, 5);
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
const twoDecimals = (i: number, s: number) => Math.round((20 + 5 * Math.sin(i / 30 + s) + ((i * 7919 + s) % 13) / 10) * 100) / 100;

const rowBody = (request: number, sensors: number) =>
  JSON.stringify({
    readings: Array.from({ length: 1000 }, (_, i) => {
      const s = i % sensors;
      const k = request * (1000 / sensors) + Math.floor(i / sensors);
      return { sensorId: `s${s}`, timestamp: t0 + k * 1000, value: twoDecimals(k, s) };
    }),
  });
const columnarBody = (request: number) =>
  JSON.stringify({ sensorId: 's0', timestamps: Array.from({ length: 1000 }, (_, i) => t0 + (request * 1000 + i) * 1000), values: Array.from({ length: 1000 }, (_, i) => twoDecimals(request * 1000 + i, 0)) });

interface InProcess {
  form: string;
  readingsPerSecond: number;
  cpuReadingsPerSecond: number;
  p50Ms: number;
}

async function inProcess(): Promise<InProcess[]> {
  // The handler module is the one the local cloud loaded (its environment is the cloud's); the mocks answer its SDK calls.
  const sqs = mockClient(SQSClient);
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({ Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: e.Id, MD5OfMessageBody: '' })), Failed: [] }));
  const dynamo = mockClient(DynamoDBDocumentClient);
  dynamo.on(GetCommand).callsFake((input: { Key: { sk: string } }) => ({ Item: { sensor: { id: input.Key.sk.slice('SENSOR#'.length), name: 'x', type: 'pressure', unit: 'bar', createdAt: new Date(t0).toISOString() } } }));
  const { handler } = (await import('../functions/sensors/ingestReadings.js')) as { handler: (e: unknown, c: unknown) => Promise<APIGatewayProxyStructuredResultV2> };
  const claims = claimsFor('bench', 'telltale/ingest');
  const results: InProcess[] = [];
  for (const [form, bodyOf] of [
    ['rows, 100 sensors x 10 readings', (r: number) => rowBody(r, 100)],
    ['columnar, 1 sensor x 1,000 readings', columnarBody],
  ] as const) {
    const bodies = Array.from({ length: 50 }, (_, r) => bodyOf(r));
    const once = async (i: number) => {
      const response = await handler(httpEvent({ method: 'POST', path: '/api/v1/readings', body: bodies[i % bodies.length], claims }), lambdaContext);
      if (response.statusCode !== 202 || !String(response.body).startsWith('{"accepted":1000,')) throw new Error(`ingest answered ${response.statusCode}: ${String(response.body).slice(0, 200)}`);
    };
    for (let i = 0; i < 300; i++) await once(i);
    const requests = 2000;
    const times: number[] = [];
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < requests; i++) {
      const t = performance.now();
      await once(i);
      times.push(performance.now() - t);
    }
    const wall = (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    times.sort((a, b) => a - b);
    results.push({ form, readingsPerSecond: (requests * 1000) / wall, cpuReadingsPerSecond: (requests * 1000) / ((used.user + used.system) / 1e6), p50Ms: times[times.length >> 1] });
  }
  sqs.restore();
  dynamo.restore();
  return results;
}

interface WriteCost {
  shape: string;
  readings: number;
  units: number;
  perThousand: number;
}

/** On the local cloud's dynalite: the process's DynamoDB client (one per container, as in Lambda) points there. */
async function writeUnits(cloud: LocalCloud): Promise<WriteCost[]> {
  const client = new DynamoDBClient({ endpoint: cloud.endpoints.dynamoDb, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  await client.send(new CreateTableCommand(createTableInput('readings-bench', tables.readings)));
  const { dynamoReadingsStore } = await import('../shared/aws/dynamoReadingsStore.js');
  const { bucketSpanMs } = await import('../shared/sensors/readingBucket.js');
  let units = 0;
  const store = dynamoReadingsStore({ tableName: 'readings-bench', retentionDays: 365, spanOf: async () => bucketSpanMs(1), onWriteUnits: (u) => (units += u) });
  const results: WriteCost[] = [];
  /** `batches` writes of `perWrite` consecutive 1 Hz readings of one sensor, each followed by its scores, as the writer and the scorer do. */
  const run = async (shape: string, sensor: string, batches: number, perWrite: number) => {
    units = 0;
    for (let b = 0; b < batches; b++) {
      const readings = Array.from({ length: perWrite }, (_, i) => ({ timestamp: t0 + (b * perWrite + i) * 1000, value: twoDecimals(b * perWrite + i, 1) }));
      await store.put('bench', sensor, readings);
      await store.putScores('bench', sensor, readings.map((r, i) => ({ timestamp: r.timestamp, score: Math.abs(Math.sin(i)) / 3, label: i % 97 === 0 ? 1 : 0 })));
    }
    const n = batches * perWrite;
    results.push({ shape, readings: n, units, perThousand: (units / n) * 1000 });
  };
  await run('1,000 readings of a sensor per write (columnar request, or merged in one delivery)', 'a', 20, 1000);
  await run('200 readings of a sensor per write', 'b', 50, 200);
  await run('100 readings of a sensor per write', 'c', 100, 100);
  await run('10 readings of a sensor per write (row batch of 100 sensors, not merged)', 'd', 200, 10);
  return results;
}

interface EndToEnd {
  readings: number;
  seconds: number;
  stored: number;
  forwarded: number;
}

async function endToEnd(cloud: LocalCloud): Promise<EndToEnd> {
  {
    let forwarded = 0;
    // The real scorer takes the scoring queue (the flow end to end); what reaches it is counted on its way in.
    const scorer = cloud.functions.get('scoreReadings')!;
    const score = scorer.handler;
    scorer.handler = async (event, context) => {
      forwarded += (event as SQSEvent).Records.reduce((n, r) => n + (JSON.parse(r.body) as { readings: unknown[] }).readings.length, 0);
      return score(event, context);
    };
    const token = await cloud.mintToken({ tenant: 'bench', scopes: ['telltale/ingest', 'telltale/read'] });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const sensors = 100;
    for (let s = 0; s < sensors; s++) {
      await fetch(`${cloud.url}/api/v1/sensors`, { method: 'POST', headers, body: JSON.stringify({ id: `s${s}`, name: `s${s}`, type: 'pressure', unit: 'bar', samplingIntervalSeconds: 1 }) });
    }
    const requests = 200;
    const bodies = Array.from({ length: requests }, (_, r) => rowBody(r, sensors));
    const start = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < requests) {
          const body = bodies[next++];
          const response = await fetch(`${cloud.url}/api/v1/readings`, { method: 'POST', headers, body });
          if (response.status !== 202) throw new Error(`POST /readings answered ${response.status}: ${await response.text()}`);
        }
      }),
    );
    await cloud.drain(600_000);
    const seconds = (performance.now() - start) / 1000;
    let stored = 0;
    for (let s = 0; s < sensors; s++) {
      const response = await fetch(`${cloud.url}/api/v1/sensors/s${s}/readings?from=${t0}&to=${t0 + 86_400_000}&maxPoints=1`, { headers });
      stored += ((await response.json()) as { count: number }).count;
    }
    return { readings: requests * 1000, seconds, stored, forwarded };
  }
}

export default async function ingestBench(): Promise<BenchSection> {
  // The cloud first: the in-process run mocks the SDK clients for the rest of the process.
  const load = os.loadavg()[0];
  const cloud = await startLocalCloud({ memory: true, keys: 'memory', port: 0, onProblem: () => undefined });
  let e2e: EndToEnd;
  let costs: WriteCost[];
  try {
    e2e = await endToEnd(cloud);
    costs = await writeUnits(cloud);
  } finally {
    await cloud.stop();
  }
  const handler = await inProcess();
  const best = Math.max(...handler.map((h) => h.cpuReadingsPerSecond));
  const worst = Math.min(...handler.map((h) => h.cpuReadingsPerSecond));
  const realistic = costs[0];
  const e2eRate = e2e.readings / e2e.seconds;
  const lost = e2e.readings - e2e.stored;
  return {
    title: 'Reading ingestion',
    glance: [
      {
        measure: 'ingest handler in process, 1,000 readings per request',
        aim: '200,000 readings/s per core',
        measured: `${fmt(worst)} (rows) to ${fmt(best)} (columnar) per CPU-second${worst >= 200_000 ? ': met' : ': **short**'}`,
      },
      {
        measure: 'DynamoDB write units per 1,000 readings stored and scored',
        aim: '<= 25',
        measured: `${realistic.perThousand.toFixed(1)} at 1,000 readings of a sensor per write${realistic.perThousand <= 25 ? ': met' : ': **short**'}; ${costs[costs.length - 1].perThousand.toFixed(0)} at 10 per write: **short**`,
      },
      {
        measure: 'POST /readings end to end on the local cloud, 2 cores',
        aim: '20,000 readings/s sustained, none lost',
        measured: `${fmt(e2eRate)} readings/s, ${lost === 0 ? 'none lost' : `**${lost} lost**`}${e2eRate >= 20_000 ? '' : ': **short**'}`,
      },
    ],
    markdown: `
In process (the handler alone; SQS and the registry read answered by mocks; 2,000 requests after 300 warm-up):

${table(['request', 'readings/s (wall)', 'readings/s per CPU-second', 'p50 per request (ms)'], handler.map((h) => [h.form, fmt(h.readingsPerSecond), fmt(h.cpuReadingsPerSecond), h.p50Ms.toFixed(2)]))}

DynamoDB write units (ConsumedCapacity of every PutItem on dynalite, which bills as DynamoDB does: 1 unit per KB of the larger of the old and new item): readings of a sensor at 1 Hz with two-decimal values, each write followed by the scorer's putScores of the same readings (scores are an item of their own per bucket: float32 score and label), buckets of 200 readings (the sensor's samplingIntervalSeconds is 1):

${table(['shape', 'readings', 'write units', 'per 1,000 readings'], costs.map((c) => [c.shape, fmt(c.readings), c.units.toFixed(0), c.perThousand.toFixed(1)]))}

A write costs at least one unit, so the cost per reading falls with the readings per write: the aim holds for batches of about 100 readings of a sensor or more. A row batch that spreads 1,000 readings over 100 sensors gives 10 per sensor; storeReadings merges a sensor's messages of one delivery, but FIFO deliveries hold at most 10 messages and a group's messages come in order, so a row batch of 10 readings per sensor is written about 10 at a time: send a sensor's readings in larger runs (the columnar form) to stay under the aim.

End to end on the local cloud (one process: HTTP API, handler, ingest queue, storeReadings, the scoring queue and scoreReadings, dynalite; 8 concurrent clients posting row batches of 1,000 readings over 100 sensors; timed from the first request until every queue is empty; then every sensor's readings counted through GET /sensors/{id}/readings). The machine is shared: its load average was ${load.toFixed(1)} when this part started, and one process (one core for JavaScript) runs everything here:

${table(['readings sent', 'seconds', 'readings/s', 'stored (counted back)', 'forwarded to the scoring queue'], [[fmt(e2e.readings), e2e.seconds.toFixed(1), fmt(e2eRate), fmt(e2e.stored), fmt(e2e.forwarded)]])}
`,
  };
}
