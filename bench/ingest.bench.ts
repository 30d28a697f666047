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
import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyStructuredResultV2, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createTableInput } from '../local/provision.js';
import { startLocalCloud, type LocalCloud } from '../local/cloud.js';
import { dynamoDb } from '../shared/aws/dynamoDbClient.js';
import { tables } from '../shared/platform/resources.js';
import { claimsFor, httpEvent, lambdaContext } from '../test/fixtures/lambda.js';
import { table, type BenchSection } from './harness.js';

const t0 = Date.UTC(2026, 0, 5);
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
const twoDecimals = (i: number, s: number) => Math.round((20 + 5 * Math.sin(i / 30 + s) + ((i * 7919 + s) % 13) / 10) * 100) / 100;

/** Request `request` of a client that posts 1,000 readings spread over `sensors` sensors: the next 1,000/sensors seconds of each. */
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
  await run('100 readings of a sensor per write (a gateway request of 10 sensors x 100, not merged)', 'c', 100, 100);
  await run('10 readings of a sensor per write (a row batch of 100 sensors x 10, not merged)', 'd', 200, 10);
  await run('1 reading of a sensor per write (1,000 sensors x 1 a request, not merged): the worst case', 'e', 400, 1);
  return results;
}

/** A client workload: every request carries 1,000 readings as rows, `perSensor` consecutive 1 Hz readings of each of `sensors` sensors. */
export interface Workload {
  name: string;
  sensors: number;
  perSensor: number;
  requests: number;
}

export interface EndToEnd extends Workload {
  readings: number;
  seconds: number;
  /** CPU seconds of the process (everything runs in it) over the run. */
  cpuSeconds: number;
  stored: number;
  forwarded: number;
  /** Write units the flow consumed: readings and scores (readings table), and scorer state (anomalies table). */
  readingsUnits: number;
  scorerStateUnits: number;
  /** Requests sent again after a 5xx. */
  retries: number;
}

/** Write units per table of every DynamoDB write of the process (ConsumedCapacity asked for on each): what the flow really spends. */
export function countWriteUnits(): Map<string, number> {
  const units = new Map<string, number>();
  dynamoDb().middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { ReturnConsumedCapacity?: string };
      const write = /^(Put|Update|Delete|BatchWrite)(Item)?Command$/.test(context.commandName ?? '');
      if (write) input.ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }).ConsumedCapacity;
      if (write) for (const c of [consumed ?? []].flat()) units.set(c.TableName ?? '', (units.get(c.TableName ?? '') ?? 0) + (c.CapacityUnits ?? 0));
      return result;
    },
    { step: 'initialize', name: 'benchWriteUnits' },
  );
  return units;
}

export async function endToEnd(cloud: LocalCloud, workload: Workload, units: Map<string, number>): Promise<EndToEnd> {
  const { sensors, perSensor, requests } = workload;
  let forwarded = 0;
  // The real scorer takes the scoring queue (the flow end to end); what reaches it is counted on its way in.
  const scorer = cloud.functions.get('scoreReadings')!;
  const score = scorer.handler;
  scorer.handler = async (event, context) => {
    forwarded += (event as SQSEvent).Records.reduce((n, r) => n + (JSON.parse(r.body) as { readings: unknown[] }).readings.length, 0);
    return score(event, context);
  };
  // A tenant per workload: its sensors and readings are its own.
  const token = await cloud.mintToken({ tenant: `bench-${sensors}x${perSensor}`, scopes: ['telltale/ingest', 'telltale/read'] });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const inParallel = async (count: number, clients: number, work: (i: number) => Promise<void>) => {
    let next = 0;
    await Promise.all(Array.from({ length: clients }, async () => {
      while (next < count) await work(next++);
    }));
  };
  await inParallel(sensors, 8, async (s) => {
    await fetch(`${cloud.url}/api/v1/sensors`, { method: 'POST', headers, body: JSON.stringify({ id: `s${s}`, name: `s${s}`, type: 'pressure', unit: 'bar', samplingIntervalSeconds: 1 }) });
  });
  await cloud.drain(60_000);
  const bodies = Array.from({ length: requests }, (_, r) => rowBody(r, sensors));
  units.clear();
  const cpu = process.cpuUsage();
  const start = performance.now();
  let retries = 0;
  await inParallel(requests, 8, async (r) => {
    // A client sends a request again after a 5xx, as a gateway does (the queues' deduplication and the store make it safe).
    for (let attempt = 1; ; attempt++) {
      const response = await fetch(`${cloud.url}/api/v1/readings`, { method: 'POST', headers, body: bodies[r] });
      if (response.status === 202) return;
      if (response.status < 500 || attempt === 3) throw new Error(`POST /readings answered ${response.status}: ${await response.text()}`);
      retries += 1;
    }
  });
  await cloud.drain(900_000);
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const unitsOf = (table: string) => units.get(`telltale-local-${table}`) ?? 0;
  const [readingsUnits, scorerStateUnits] = [unitsOf(tables.readings.name), unitsOf(tables.anomalies.name)];
  scorer.handler = score;
  let stored = 0;
  await inParallel(sensors, 8, async (s) => {
    const response = await fetch(`${cloud.url}/api/v1/sensors/s${s}/readings?from=${t0}&to=${t0 + 86_400_000}&maxPoints=1`, { headers });
    stored += ((await response.json()) as { count: number }).count;
  });
  return { ...workload, readings: requests * 1000, seconds, cpuSeconds: (used.user + used.system) / 1e6, stored, forwarded, readingsUnits, scorerStateUnits, retries };
}

/** The workloads end to end, each 1,000 readings a request; sizes keep each run to tens of seconds on an idle machine. */
export const workloads: Workload[] = [
  { name: 'gateway: 10 sensors x 100 readings a request (each sensor buffered 100 s at 1 Hz)', sensors: 10, perSensor: 100, requests: 200 },
  { name: 'row batch: 100 sensors x 10 readings a request', sensors: 100, perSensor: 10, requests: 100 },
  { name: 'worst: 1,000 sensors x 1 reading a request (every sensor posted as it reads)', sensors: 1000, perSensor: 1, requests: 10 },
];

const perThousand = (units: number, readings: number) => (units / readings) * 1000;
const verdict = (met: boolean) => (met ? ': met' : ': **short**');

export default async function ingestBench(): Promise<BenchSection> {
  // The cloud first: the in-process run mocks the SDK clients for the rest of the process.
  const load = os.loadavg()[0];
  // What the handlers threw (each a 500), counted by message for the text.
  const problems = new Map<string, number>();
  const onProblem = (message: string, error?: unknown) => {
    const key = `${message}: ${error instanceof Error ? error.message : String(error ?? '')}`.slice(0, 200);
    problems.set(key, (problems.get(key) ?? 0) + 1);
  };
  const cloud = await startLocalCloud({ memory: true, keys: 'memory', port: 0, onProblem });
  const e2e: EndToEnd[] = [];
  let costs: WriteCost[];
  try {
    const units = countWriteUnits();
    for (const workload of workloads) e2e.push(await endToEnd(cloud, workload, units));
    costs = await writeUnits(cloud);
  } finally {
    await cloud.stop();
  }
  const handler = await inProcess();
  const best = Math.max(...handler.map((h) => h.cpuReadingsPerSecond));
  const worst = Math.min(...handler.map((h) => h.cpuReadingsPerSecond));
  const rateOf = (e: EndToEnd) => e.readings / e.seconds;
  const lost = e2e.reduce((n, e) => n + e.readings - e.stored, 0);
  const [gateway] = e2e;
  const gatewayUnits = perThousand(gateway.readingsUnits, gateway.readings);
  const worstWrite = costs[costs.length - 1];
  return {
    title: 'Reading ingestion',
    glance: [
      {
        measure: 'ingest handler in process, 1,000 readings per request',
        aim: '200,000 readings/s per core',
        measured: `${fmt(worst)} (rows) to ${fmt(best)} (columnar) per CPU-second${verdict(worst >= 200_000)}`,
      },
      {
        measure: 'DynamoDB write units per 1,000 readings stored and scored',
        aim: '<= 25',
        measured: `${gatewayUnits.toFixed(1)} end to end with gateway requests (100 readings of a sensor each)${verdict(gatewayUnits <= 25)}; ${fmt(worstWrite.perThousand)} at 1 reading of a sensor per write (worst case)${verdict(worstWrite.perThousand <= 25)}`,
      },
      {
        measure: 'POST /readings end to end on the local cloud, 2 cores',
        aim: '20,000 readings/s sustained, none lost',
        measured: `${e2e.map((e) => `${fmt(rateOf(e))} readings/s at ${e.sensors.toLocaleString('en-US')} sensors x ${e.perSensor} a request`).join('; ')}; ${lost === 0 ? 'none lost' : `**${fmt(lost)} lost**`}${verdict(rateOf(gateway) >= 20_000 && lost === 0)}`,
      },
    ],
    markdown: `
In process (the handler alone; SQS and the registry read answered by mocks; 2,000 requests after 300 warm-up):

${table(['request', 'readings/s (wall)', 'readings/s per CPU-second', 'p50 per request (ms)'], handler.map((h) => [h.form, fmt(h.readingsPerSecond), fmt(h.cpuReadingsPerSecond), h.p50Ms.toFixed(2)]))}

End to end on the local cloud (one process: HTTP API, ingestReadings, the ingest queue, storeReadings, the scoring queue and scoreReadings, dynalite). Each workload is a tenant of its own whose 8 concurrent clients post requests of 1,000 readings as rows, each request the next readings (1 Hz) of every sensor of the workload; timed from the first request until every queue is empty; then every sensor's readings counted back through GET /sensors/{id}/readings. Write units are the ConsumedCapacity of every DynamoDB write the flow made (readings and scores in the readings table; the scorer's state in the anomalies table). The machine is shared: its load average was ${load.toFixed(1)} when this part started, and one process (one core for JavaScript) runs everything, so readings per CPU-second of that process is the figure load changes least:

${table(
  ['workload', 'readings sent', 'seconds', 'readings/s', 'readings per CPU-second', 'requests sent again after a 5xx', 'stored (counted back)', 'forwarded to the scoring queue', 'write units per 1,000: readings and scores', 'scorer state'],
  e2e.map((e) => [e.name, fmt(e.readings), e.seconds.toFixed(1), fmt(rateOf(e)), fmt(e.readings / e.cpuSeconds), e.retries, fmt(e.stored), fmt(e.forwarded), perThousand(e.readingsUnits, e.readings).toFixed(1), perThousand(e.scorerStateUnits, e.readings).toFixed(1)]),
)}
${problems.size === 0 ? '' : `\nWhat the handlers threw meanwhile (each a 500 to its caller):\n\n${table(['error', 'times'], [...problems].map(([p, n]) => [p.replace(/\|/g, '/'), n]))}\n`}
Every stage pays per message (a DynamoDB read and write per bucket touched, the scorer's state read and write, the queues' calls), so what a request carries per sensor sets the cost: 100 readings of a sensor per request fill half a bucket per message, 1 reading per request pays the whole per-message cost for one reading.

A FIFO delivery holds at most 10 messages, and SQS fills it with as many messages of one group (here one sensor) as it can, so when a sensor's messages wait in the queue, storeReadings merges up to 10 of them into one write per bucket, and forwards them as one message. The end-to-end write units above include that merging, and so depend on how much waits in the queue when the writer takes a delivery: the clients here post faster than the flow drains. With no backlog (a writer always idle when a message comes, as Lambda scales out to the number of active groups), each write holds one message's readings; DynamoDB write units for that, with nothing merged (ConsumedCapacity of every PutItem on dynalite, which bills as DynamoDB does: 1 unit per KB of the larger of the old and new item): readings of a sensor at 1 Hz with two-decimal values, each write followed by the scorer's putScores of the same readings (scores are an item of their own per bucket: float32 score and label), buckets of 200 readings (the sensor's samplingIntervalSeconds is 1):

${table(['shape', 'readings', 'write units', 'per 1,000 readings'], costs.map((c) => [c.shape, fmt(c.readings), c.units.toFixed(0), c.perThousand.toFixed(1)]))}

A write costs at least one unit, so the cost per reading falls with the readings of a sensor per write: the aim holds from about 100 readings of a sensor per message. A gateway that buffers each sensor for a minute or more before it posts (the columnar form, or rows of many readings per sensor) stays under it whatever the backlog; one that posts every sensor as it reads does not.
`,
  };
}
