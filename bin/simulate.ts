import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { PlantSimulator, type InjectedFault, type SimulatedSensor, type Tick } from '../shared/sensors/simulator.js';
import { apiClient, apiOptions, ApiError, type ApiClient } from './api.js';
import type { Io } from './datasets.js';
import { numberOption, optionalString, type Values } from './options.js';

export const simulateOptions = {
  ...apiOptions,
  seed: { type: 'string' },
  speed: { type: 'string' },
  duration: { type: 'string' },
  pumps: { type: 'string' },
  compressors: { type: 'string' },
  'first-fault': { type: 'string' },
  report: { type: 'string' },
  backfill: { type: 'string' },
} as const;

/** POST /readings takes up to this many readings a request. */
const MAX_BATCH = 1000;
/** Simulated history replayed when faster than real time and no duration is given: an hour. */
const DEFAULT_FAST_SECONDS = 3600;

export interface SimulationOptions {
  /** The API client (base URL and token); `startSimulation` makes one from `url` and `token`. */
  api: ApiClient;
  seed?: number;
  pumps?: number;
  compressors?: number;
  /** 1 is real time; N sends N simulated seconds per second (Infinity: as fast as the API takes them). Faster than real time replays the recent past up to now. */
  speed?: number;
  /** Simulated seconds to send; unset in real time runs until stopped. */
  durationSeconds?: number;
  /**
   * In real time (or slower): start this many seconds in the past and send them at once first, so the
   * detectors are warmed up and the first fault comes soon (the demo: 420 s of history, the first fault a
   * minute later). Default 0.
   */
  backfillSeconds?: number;
  /** Seconds after the start when the first fault begins (default: after the detectors' warm-up). */
  firstFaultSecond?: number;
  /** Told when each fault begins and ends, as it is sent. */
  onFault?: (event: { event: 'fault.started' | 'fault.ended'; fault: InjectedFault }) => void;
  log?: (message: string) => void;
  /** Clock, for tests. */
  now?: () => number;
}

export interface Simulation {
  sensors: readonly SimulatedSensor[];
  /** What will be injected, and when (the plan, known from the start). */
  faults: readonly InjectedFault[];
  /** Stops after the request in flight. */
  stop(): void;
  /** Resolves when the run ends: the readings accepted and rejected by the API. */
  done: Promise<{ sent: number; accepted: number; rejected: number }>;
}

/** The request body of POST /api/v1/readings: rows of one or more sensors, ISO timestamps. */
export const readingsRequest = (ticks: readonly Tick[]) => ({
  readings: ticks.flatMap((t) => t.readings.map((r) => ({ sensorId: r.sensorId, timestamp: new Date(t.timestamp).toISOString(), value: r.value }))),
});

/** Registers the plant's sensors the tenant does not have yet (409 means it has). */
async function registerSensors(api: ApiClient, sensors: readonly SimulatedSensor[]): Promise<void> {
  for (const { asset: _asset, channel: _channel, ...sensor } of sensors) {
    try {
      await api.call('POST', '/sensors', sensor);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 409)) throw error;
    }
  }
}

/** Sends once more, after a second, what a busy or unreachable API did not take: a long run outlives a hiccup. */
async function sendReadings(options: SimulationOptions, body: ReturnType<typeof readingsRequest>, attempts = 5): Promise<{ accepted: number; rejected: unknown[] }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await options.api.call<{ accepted: number; rejected: unknown[] }>('POST', '/readings', body);
    } catch (error) {
      const transient = error instanceof ApiError && (error.status === undefined || error.status === 429 || error.status >= 500);
      if (!transient || attempt >= attempts) throw error;
      options.log?.(`${(error as Error).message}; sending again in a second`);
      await sleep(1000);
    }
  }
}

/**
 * Runs the plant simulator against the API: registers its sensors, then sends their readings to
 * POST /readings in real time or faster, announcing each fault as it begins and ends. What
 * `telltale simulate` runs, and what the local cloud can start for its demo tenant.
 */
export function simulate(options: SimulationOptions): Simulation {
  const now = options.now ?? Date.now;
  const speed = options.speed ?? 1;
  const duration = options.durationSeconds ?? (speed > 1 ? DEFAULT_FAST_SECONDS : undefined);
  // Faster than real time must not run ahead of the clock (the API refuses readings from the future): start in the past.
  const backfill = speed > 1 ? 0 : (options.backfillSeconds ?? 0);
  const start = Math.floor((now() - (speed > 1 ? duration! : backfill) * 1000) / 1000) * 1000;
  const plant = new PlantSimulator({ seed: options.seed, pumps: options.pumps, compressors: options.compressors, start, firstFaultSecond: options.firstFaultSecond });
  let stopped = false;

  const run = async () => {
    const totals = { sent: 0, accepted: 0, rejected: 0 };
    await registerSensors(options.api, plant.sensors);
    const ticksPerRequest = Math.max(1, Math.floor(MAX_BATCH / plant.sensors.length));
    const wallStart = now();
    for (let second = 0; !stopped && (duration === undefined || second < duration); ) {
      // Send what is due: every tick whose simulated time has come at this speed, up to a full request.
      const due = speed === Infinity ? Infinity : backfill + Math.floor(((now() - wallStart) * speed) / 1000) + 1;
      const count = Math.min(ticksPerRequest, due - second, duration === undefined ? Infinity : duration - second);
      if (count <= 0) {
        // Tick `second` is due `(second - backfill) / speed` seconds after the start.
        await sleep(Math.max(1, Math.ceil(((second - backfill) * 1000) / speed - (now() - wallStart))));
        continue;
      }
      const ticks = Array.from({ length: count }, () => plant.next());
      for (const fault of plant.faults) {
        if (fault.startSecond >= second && fault.startSecond < second + count) options.onFault?.({ event: 'fault.started', fault });
        const end = fault.startSecond + fault.durationSeconds;
        if (end >= second && end < second + count) options.onFault?.({ event: 'fault.ended', fault });
      }
      second += count;
      const body = readingsRequest(ticks);
      const answer = await sendReadings(options, body);
      totals.sent += body.readings.length;
      totals.accepted += answer.accepted;
      totals.rejected += answer.rejected.length;
      if (answer.rejected.length > 0) options.log?.(`${answer.rejected.length} reading(s) rejected: ${JSON.stringify(answer.rejected.slice(0, 3))}`);
    }
    return totals;
  };
  return { sensors: plant.sensors, faults: plant.faults, stop: () => void (stopped = true), done: run() };
}

/** `simulate` with an API client for `url` and `token`: what local/main.ts calls to feed the demo tenant. */
export function startSimulation(options: Omit<SimulationOptions, 'api'> & { url: string; token: string }): Simulation {
  const { url, token, ...rest } = options;
  return simulate({ ...rest, api: apiClient({ api: url, token }, {}) });
}

/** telltale simulate: prints the plan, then one JSON line as each fault begins and ends; --report writes the plan as JSON. */
export async function runSimulate(values: Values, io: Io): Promise<number> {
  const api = apiClient(values);
  const simulation = simulate({
    api,
    seed: numberOption(values, 'seed', 0, 2 ** 32 - 1, true),
    speed: numberOption(values, 'speed', 0.01, 10_000),
    durationSeconds: numberOption(values, 'duration', 1, 365 * 86_400, true),
    pumps: numberOption(values, 'pumps', 0, 100, true),
    compressors: numberOption(values, 'compressors', 0, 100, true),
    firstFaultSecond: numberOption(values, 'first-fault', 0, 365 * 86_400, true),
    backfillSeconds: numberOption(values, 'backfill', 0, 7 * 86_400, true),
    onFault: (event) => io.out(JSON.stringify({ event: event.event, kind: event.fault.kind, asset: event.fault.asset, sensorIds: event.fault.sensorIds, from: event.fault.from, to: event.fault.to })),
    log: io.log,
  });
  const report = optionalString(values, 'report');
  if (report) writeFileSync(report, `${JSON.stringify({ sensors: simulation.sensors.map((s) => s.id), faults: simulation.faults }, null, 2)}\n`);
  io.log(`simulating ${simulation.sensors.length} sensors; faults: ${simulation.faults.map((f) => `${f.kind} on ${f.asset} at ${f.from}`).join(', ')}`);
  const stop = () => simulation.stop();
  process.once('SIGINT', stop);
  try {
    const totals = await simulation.done;
    io.log(`sent ${totals.sent} readings: ${totals.accepted} accepted, ${totals.rejected} rejected`);
    return 0;
  } finally {
    process.off('SIGINT', stop);
  }
}
