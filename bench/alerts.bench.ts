/**
 * Alerts: rule evaluation in process (signals of anomaly.opened against 1,000 rules of a tenant,
 * filed by subject, with the in-memory store), and on the local cloud the time from anomaly.opened
 * on the bus to the signed webhook reaching a receiver over HTTP.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { startLocalCloud } from '../local/cloud.js';
import { createRng } from '../shared/ml/multivariate/rng.js';
import { memoryAlertStore } from '../shared/monitoring/alertMemoryStore.js';
import { alertCondition } from '../shared/monitoring/alertRule.js';
import { signalOf } from '../shared/monitoring/alertSignals.js';
import type { StoredRule } from '../shared/monitoring/alertStore.js';
import { evaluateSignal } from '../shared/monitoring/alerts.js';
import { percentile, table, type BenchSection } from './harness.js';

const rulesPerTenant = 1000;
const sensors = 800;
const groups = 100;
const int = (x: number) => Math.round(x).toLocaleString('en-US');

/** 1,000 rules: 800 on one sensor each, 150 on groups of 8 sensors, 50 on models (one each); every one a webhook. */
function benchRules(): StoredRule[] {
  const on = (i: number) => (i < sensors ? { sensorId: `s-${i}` } : i < sensors + 150 ? { group: `g-${i % groups}` } : { model: `model-${i % 50}` });
  return Array.from({ length: rulesPerTenant }, (_, i) => ({
    id: `ar-${String(i).padStart(24, '0')}`,
    name: `rule ${i}`,
    condition: alertCondition.parse({ kind: 'anomalyOpened', on: on(i), ...(i % 3 === 0 ? { minSeverity: 'major' } : {}) }),
    targets: [{ kind: 'webhook', url: 'https://hooks.example.com/x', format: 'json', secretHint: '...abcd', secretId: 'sec' }],
    cooldownSeconds: 900,
    enabled: true,
    createdAt: '2026-03-01T00:00:00.000Z',
    updatedAt: '2026-03-01T00:00:00.000Z',
  }));
}

/** anomaly.opened details of random sensors, each a new episode. */
function benchEvents(n: number): { id: string; detail: Record<string, unknown> }[] {
  const draw = createRng(11);
  return Array.from({ length: n }, (_, i) => {
    const sensor = Math.floor(draw() * sensors);
    const peakScore = 0.6 + 0.4 * draw();
    return {
      id: `e-${i}`,
      detail: { tenant: 'bench', episodeId: `ep-${i}`, sensorId: `s-${sensor}`, group: `g-${sensor % groups}`, start: '2026-03-01T00:00:00.000Z', peakScore, severity: peakScore >= 0.9 ? 'critical' : peakScore >= 0.75 ? 'major' : 'minor', model: { name: `model-${sensor % 50}`, version: '1' } },
    };
  });
}

/** Events a second through signalOf and evaluateSignal (in-memory store and queue), best of three passes on a fresh store. */
async function inProcess(events: number): Promise<{ perSecond: number; fired: number; suppressed: number; lookups: number; candidates: number }> {
  const rules = benchRules();
  const input = benchEvents(events);
  let best = { perSecond: 0, fired: 0, suppressed: 0, lookups: 0, candidates: 0 };
  for (let pass = 0; pass < 3; pass++) {
    const store = memoryAlertStore();
    for (const rule of rules) await store.createRule('bench', rule);
    let lookups = 0;
    let candidates = 0;
    const rulesByKey = store.rulesByKey.bind(store);
    store.rulesByKey = async (tenant, key) => {
      const found = await rulesByKey(tenant, key);
      lookups += 1;
      candidates += found.length;
      return found;
    };
    let queued = 0;
    const deps = { store, deliveries: { enqueue: async (m: readonly unknown[]) => void (queued += m.length) }, events: { publish: async () => undefined } };
    const counts = { fired: 0, suppressed: 0 };
    const at = '2026-03-01T00:00:00.000Z';
    const started = process.hrtime.bigint();
    for (const e of input) {
      for (const outcome of await evaluateSignal(deps, signalOf('anomaly.opened', e.id, e.detail)!, at)) if (outcome === 'fired' || outcome === 'suppressed') counts[outcome] += 1;
    }
    const perSecond = events / (Number(process.hrtime.bigint() - started) / 1e9);
    if (queued !== counts.fired) throw new Error(`${counts.fired} alerts fired but ${queued} notifications queued`);
    if (perSecond > best.perSecond) best = { perSecond, ...counts, lookups, candidates };
  }
  return best;
}

/** anomaly.opened on the local cloud's bus to the webhook at a local receiver, real time; one new sensor per trial. */
async function cloudLatency(trials: number): Promise<{ latencies: number[]; received: number }> {
  const arrived = new Map<string, number>();
  const receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const at = performance.now();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { subject: string };
      if (!arrived.has(body.subject)) arrived.set(body.subject, at);
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
  const cloud = await startLocalCloud({ memory: true, keys: 'memory', port: 0, preload: true, onProblem: () => undefined });
  try {
    const token = await cloud.mintToken({ tenant: 'bench', scopes: ['telltale/admin'] });
    const created = await fetch(`${cloud.url}/api/v1/monitoring/alerts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench', condition: { kind: 'anomalyOpened', on: { model: 'streaming' } }, targets: [{ kind: 'webhook', url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` }] }),
    });
    if (created.status !== 201) throw new Error(`creating the rule answered ${created.status}: ${await created.text()}`);
    const latencies: number[] = [];
    // The first trials warm the handlers up (cold starts): they are not counted.
    const warmup = 3;
    for (let k = 0; k < trials + warmup; k++) {
      const sensorId = `bench-${k}`;
      const sent = performance.now();
      cloud.bus.put({ source: 'telltale', detailType: 'anomaly.opened', detail: { tenant: 'bench', episodeId: `ep-${k}`, sensorId, start: new Date().toISOString(), peakScore: 0.95, severity: 'critical', model: { name: 'streaming', version: '1' } } });
      const until = performance.now() + 10_000;
      while (!arrived.has(sensorId) && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 1));
      if (k >= warmup && arrived.has(sensorId)) latencies.push(arrived.get(sensorId)! - sent);
      await cloud.drain(30_000);
    }
    return { latencies: latencies.sort((a, b) => a - b), received: arrived.size };
  } finally {
    await cloud.stop();
    receiver.close();
  }
}

export default async (): Promise<BenchSection> => {
  const load = os.loadavg()[0];
  const events = Number(process.env.ALERTS_BENCH_EVENTS ?? 100_000);
  const trials = Number(process.env.ALERTS_BENCH_TRIALS ?? 50);
  const evaluation = await inProcess(events);
  const { latencies } = await cloudLatency(trials);
  const p50 = percentile(latencies, 50);
  const p95 = percentile(latencies, 95);
  return {
    title: 'Alerts',
    glance: [
      {
        measure: 'rule evaluation in process, events/s per core (1,000 rules per tenant)',
        aim: '≥ 10,000',
        measured: `${int(evaluation.perSecond)}${evaluation.perSecond >= 10_000 ? '' : ' (**short**)'}`,
      },
      {
        measure: 'anomaly.opened to webhook received, local cloud',
        aim: 'p95 ≤ 1 s',
        measured: `p50 ${p50.toFixed(0)} ms, p95 ${p95.toFixed(0)} ms (${latencies.length} of ${trials} trials)${p95 <= 1000 ? '' : ': **short**'}`,
      },
    ],
    markdown: `
Load average when the run started: ${load.toFixed(1)} on ${os.cpus().length} cores (the machine was shared; quieter runs measure more).

**Evaluation in process.** One tenant with ${int(rulesPerTenant)} rules on anomaly episodes (${sensors} on one sensor each, 150 on sensor groups, 50 on models (one each);
a third with a minimum severity), ${int(events)} \`anomaly.opened\` events of random sensors, each a new episode. Each event goes through
\`signalOf\` (zod-checked detail, index keys) and \`evaluateSignal\`: one lookup per index key of the event (its sensor, group and model), the
rules' own conditions, then the claim of the (rule, subject) alert and its notifications queued, in the in-memory store (shared/monitoring/alertMemoryStore.ts)
that has the DynamoDB adapter's semantics. One thread, so the figure is per core; best of three passes, each on a fresh store.

${table(
  ['events/s', 'index lookups per event', 'rules read per event', 'alerts fired', 'absorbed by an open alert'],
  [[int(evaluation.perSecond), (evaluation.lookups / events).toFixed(1), (evaluation.candidates / events).toFixed(1), int(evaluation.fired), int(evaluation.suppressed)]],
)}

The rules are never scanned: an event reads only the rules filed under its three keys, whatever the tenant's number of rules.
On AWS each lookup is a DynamoDB Query on the rule index partition \`T#<tenant>#AK#<key>\` of the monitoring table.

**On the local cloud** (dynalite, the in-process bus and queues, real time): a rule with a webhook target; \`anomaly.opened\` put on the bus
for a new sensor each trial, then evaluateAlerts (the rule lookup, the claim, the fired event, the message on the alertDeliveries queue,
\`alert.fired\`), then deliverAlerts (the secret from the local parameter store, the signed POST) until the receiver has the body.
${latencies.length} trials after 3 warm-up ones.

${table(['p50', 'p95', 'max'], [[`${p50.toFixed(0)} ms`, `${p95.toFixed(0)} ms`, `${(latencies.at(-1) ?? Number.NaN).toFixed(0)} ms`]])}
`,
  };
};
