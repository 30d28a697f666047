import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../../bin/cli.js';
import { simulate, startSimulation } from '../../../bin/simulate.js';
import { apiClient } from '../../../bin/api.js';

/** A stand-in for the API: records what the simulator sends; sensor pump-1-vibration exists already. */
let server: Server;
let url: string;
let failNext = 0;
let requests: { method: string; path: string; body: { readings?: { sensorId: string; timestamp: string; value: number }[]; id?: string } }[];

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const body = JSON.parse(text || '{}');
      requests.push({ method: req.method!, path: req.url!, body });
      const reply = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (req.headers.authorization !== 'Bearer t0ken') return reply(401, { status: 401, detail: 'no token' });
      if (req.url === '/api/v1/sensors') return body.id === 'pump-1-vibration' ? reply(409, { status: 409, detail: 'exists' }) : reply(201, body);
      if (req.url === '/api/v1/readings' && failNext > 0) {
        failNext -= 1;
        return reply(503, { status: 503, detail: 'DynamoDB is unavailable; retry later.' });
      }
      if (req.url === '/api/v1/readings') return reply(202, { accepted: body.readings.length, rejected: [] });
      reply(404, { status: 404, detail: 'no route' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  requests = [];
});

const readingRequests = () => requests.filter((r) => r.path === '/api/v1/readings');

describe('the simulator against the API', () => {
  it('registers its sensors (one already there), then sends every reading in batches of at most 1,000, in time order, ending before now', async () => {
    const announced: string[] = [];
    const simulation = startSimulation({ url, token: 't0ken', seed: 5, speed: Infinity, durationSeconds: 700, firstFaultSecond: 100, onFault: (e) => announced.push(`${e.event} ${e.fault.kind}`) });
    const totals = await simulation.done;

    expect(requests.filter((r) => r.path === '/api/v1/sensors').map((r) => r.body.id)).toEqual(simulation.sensors.map((s) => s.id));
    const sent = readingRequests().flatMap((r) => r.body.readings!);
    expect(totals).toEqual({ sent: 700 * simulation.sensors.length, accepted: 700 * simulation.sensors.length, rejected: 0 });
    expect(sent).toHaveLength(totals.sent);
    expect(Math.max(...readingRequests().map((r) => r.body.readings!.length))).toBeLessThanOrEqual(1000);
    const times = sent.map((r) => Date.parse(r.timestamp));
    expect(times.every((t, i) => i === 0 || t >= times[i - 1])).toBe(true);
    expect(times.at(-1)!).toBeLessThanOrEqual(Date.now());
    expect(times.at(-1)! - times[0]).toBe(699_000);
    // Bearing wear from 100 s for 240 s, cavitation from 400 s for 90 s; the stuck sensor (from 700 s) is not reached.
    expect(announced).toEqual(['fault.started bearing_wear', 'fault.ended bearing_wear', 'fault.started cavitation', 'fault.ended cavitation']);
  });

  it('in real time sends one second of readings a second', async () => {
    const started = Date.now();
    const simulation = simulate({ api: apiClient({ api: url, token: 't0ken' }, {}), speed: 1, durationSeconds: 2, pumps: 1, compressors: 0 });
    await simulation.done;
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(1800);
    expect(readingRequests().map((r) => r.body.readings!.length)).toEqual([4, 4]);
    const [first, second] = readingRequests().map((r) => Date.parse(r.body.readings![0].timestamp));
    expect(second - first).toBe(1000);
  });

  it('with a backfill, sends the recent past at once, then goes on in real time from now', async () => {
    const started = Date.now();
    const simulation = simulate({ api: apiClient({ api: url, token: 't0ken' }, {}), speed: 1, backfillSeconds: 300, durationSeconds: 302, pumps: 1, compressors: 0 });
    await simulation.done;
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(1800);
    const batches = readingRequests().map((r) => r.body.readings!.map((x) => Date.parse(x.timestamp)));
    expect(batches.flat()).toHaveLength(302 * 4);
    expect(batches.at(-1)!.at(-1)!).toBeGreaterThan(started);
    expect(batches[0][0]).toBeLessThanOrEqual(started - 299_000);
  });

  it('sends a batch again when the API is briefly unavailable, and gives up on a refusal', async () => {
    failNext = 1;
    const logged: string[] = [];
    const totals = await simulate({ api: apiClient({ api: url, token: 't0ken' }, {}), speed: Infinity, durationSeconds: 5, pumps: 1, compressors: 0, log: (m) => logged.push(m) }).done;
    expect(totals).toMatchObject({ sent: 20, accepted: 20 });
    expect(readingRequests()).toHaveLength(2);
    expect(logged).toEqual([expect.stringContaining('unavailable')]);
    await expect(simulate({ api: apiClient({ api: url, token: 'wrong' }, {}), speed: Infinity, durationSeconds: 5 }).done).rejects.toMatchObject({ status: 401 });
  });

  it('telltale simulate refuses a bad option and a missing token with exit code 2, and a refused token with 1', async () => {
    expect(await main(['simulate', '--speed', 'fast', '--token', 't0ken', '--api', url])).toBe(2);
    expect(await main(['simulate', '--api', url])).toBe(2);
    expect(await main(['simulate', '--api', url, '--token', 'wrong', '--duration', '1'])).toBe(1);
  });
});
