import { createRng, gaussian } from '../ml/multivariate/rng.js';
import type { NewSensor } from './sensor.js';

/**
 * A seeded plant of pumps and compressors, one reading a second per sensor, with faults injected at
 * known times. Pure and deterministic: the same seed and plan give the same readings on every
 * machine, so an operator or a test can compare what was injected with what was detected.
 */
export const faultKinds = ['bearing_wear', 'cavitation', 'stuck_sensor', 'valve_closing', 'leak'] as const;
export type FaultKind = (typeof faultKinds)[number];

export type AssetKind = 'pump' | 'compressor';
type Channel = 'vibration' | 'pressure' | 'flow' | 'current' | 'temperature';

interface ChannelSpec {
  type: NewSensor['type'];
  unit: string;
  /** Normal level and noise (standard deviation) of the channel. */
  level: number;
  noise: number;
  range: { min: number; max: number };
}

const channels: Record<AssetKind, Partial<Record<Channel, ChannelSpec>>> = {
  pump: {
    vibration: { type: 'vibration', unit: 'mm/s', level: 2.2, noise: 0.08, range: { min: 0, max: 20 } },
    pressure: { type: 'pressure', unit: 'bar', level: 6.0, noise: 0.05, range: { min: 0, max: 16 } },
    flow: { type: 'flow', unit: 'm3/h', level: 42, noise: 0.4, range: { min: 0, max: 80 } },
    current: { type: 'current', unit: 'A', level: 18, noise: 0.15, range: { min: 0, max: 40 } },
  },
  compressor: {
    vibration: { type: 'vibration', unit: 'mm/s', level: 3.1, noise: 0.1, range: { min: 0, max: 25 } },
    pressure: { type: 'pressure', unit: 'bar', level: 8.5, noise: 0.06, range: { min: 0, max: 16 } },
    temperature: { type: 'temperature', unit: 'degC', level: 72, noise: 0.3, range: { min: -20, max: 150 } },
    current: { type: 'current', unit: 'A', level: 55, noise: 0.4, range: { min: 0, max: 120 } },
  },
};

/** Which faults each kind of asset can have, and the channels that show them. */
const faultChannels: Record<FaultKind, Channel[]> = {
  bearing_wear: ['vibration'],
  cavitation: ['vibration', 'pressure', 'flow'],
  stuck_sensor: ['pressure'],
  valve_closing: ['flow', 'pressure', 'current'],
  leak: ['pressure', 'flow'],
};

export interface Fault {
  kind: FaultKind;
  asset: string;
  /** Seconds after the simulation's start. */
  startSecond: number;
  durationSeconds: number;
}

export interface PlantOptions {
  seed?: number;
  pumps?: number;
  compressors?: number;
  /** Epoch ms of the first tick. */
  start: number;
  /** Faults to inject; default: each kind once, one after another, from `firstFaultSecond`. */
  faults?: readonly Fault[];
  /** When the default faults begin: after the detectors' warm-up. Default 480 s. */
  firstFaultSecond?: number;
  /** Seconds between the default faults. Default 300 s. */
  faultSpacingSeconds?: number;
}

export interface SimulatedSensor extends NewSensor {
  asset: string;
  channel: Channel;
}

export interface InjectedFault extends Fault {
  sensorIds: string[];
  /** ISO times of the fault's first and last second. */
  from: string;
  to: string;
}

export interface Tick {
  timestamp: number;
  readings: { sensorId: string; value: number }[];
}

interface Asset {
  id: string;
  kind: AssetKind;
}

/** Each kind once, spread over the assets that have the channels it shows, spaced in time. */
export function defaultFaults(assets: readonly Asset[], firstFaultSecond = 480, spacingSeconds = 300): Fault[] {
  const durations: Record<FaultKind, number> = { bearing_wear: 240, cavitation: 90, stuck_sensor: 180, valve_closing: 150, leak: 150 };
  return faultKinds.map((kind, i) => {
    const able = assets.filter((a) => faultChannels[kind].every((c) => channels[a.kind][c]));
    return { kind, asset: able[i % able.length].id, startSecond: firstFaultSecond + i * spacingSeconds, durationSeconds: durations[kind] };
  });
}

export class PlantSimulator {
  readonly sensors: SimulatedSensor[];
  readonly faults: InjectedFault[];
  private readonly start: number;
  private readonly specs: ChannelSpec[];
  private readonly rngs: (() => number)[];
  /** AR(1) state of each sensor's noise: real sensors' noise is correlated from one second to the next. */
  private readonly ar: Float64Array;
  private readonly stuckAt = new Map<string, number>();
  private second = 0;

  constructor(options: PlantOptions) {
    const seed = options.seed ?? 1;
    const assets: Asset[] = [
      ...Array.from({ length: options.pumps ?? 2 }, (_, i) => ({ id: `pump-${i + 1}`, kind: 'pump' as const })),
      ...Array.from({ length: options.compressors ?? 1 }, (_, i) => ({ id: `compressor-${i + 1}`, kind: 'compressor' as const })),
    ];
    if (assets.length === 0) throw new Error('The plant needs at least one pump or compressor');
    this.start = options.start;
    this.sensors = assets.flatMap((asset) =>
      (Object.entries(channels[asset.kind]) as [Channel, ChannelSpec][]).map(([channel, spec]) => ({
        id: `${asset.id}-${channel}`,
        name: `${asset.id} ${channel}`,
        type: spec.type,
        unit: spec.unit,
        group: asset.id,
        expectedRange: spec.range,
        samplingIntervalSeconds: 1,
        tags: { simulated: 'true', asset: asset.kind },
        asset: asset.id,
        channel,
      })),
    );
    this.specs = this.sensors.map((s) => channels[assets.find((a) => a.id === s.asset)!.kind][s.channel]!);
    const faults = options.faults ?? defaultFaults(assets, options.firstFaultSecond, options.faultSpacingSeconds);
    this.faults = faults.map((f) => {
      const asset = assets.find((a) => a.id === f.asset);
      if (!asset) throw new Error(`Fault ${f.kind} names an unknown asset "${f.asset}"`);
      const shown = faultChannels[f.kind].filter((c) => channels[asset.kind][c]);
      return {
        ...f,
        sensorIds: shown.map((c) => `${f.asset}-${c}`),
        from: new Date(this.start + f.startSecond * 1000).toISOString(),
        to: new Date(this.start + (f.startSecond + f.durationSeconds - 1) * 1000).toISOString(),
      };
    });
    this.rngs = this.sensors.map((_, i) => createRng((seed * 7919 + i * 104_729) >>> 0));
    this.ar = new Float64Array(this.sensors.length);
  }

  /** The next second of the plant: one reading per sensor. */
  next(): Tick {
    const t = this.second++;
    const timestamp = this.start + t * 1000;
    const readings = this.sensors.map((sensor, i) => {
      const spec = this.specs[i];
      const rng = this.rngs[i];
      this.ar[i] = 0.6 * this.ar[i] + 0.8 * gaussian(rng);
      // A slow process swing (load changes) of a tenth of the noise over ten minutes.
      let value = spec.level + spec.noise * (this.ar[i] + 0.3 * Math.sin((2 * Math.PI * t) / 600 + i));
      let stuck = false;
      for (const fault of this.faults) {
        const k = t - fault.startSecond;
        if (k < 0 || k >= fault.durationSeconds || fault.asset !== sensor.asset) continue;
        value = applyFault(fault.kind, sensor.channel, value, spec, k / fault.durationSeconds, rng);
        stuck ||= fault.kind === 'stuck_sensor' && faultChannels.stuck_sensor.includes(sensor.channel);
      }
      // A stuck transmitter reads the value it had when it stuck, until the fault ends.
      if (!stuck) this.stuckAt.delete(sensor.id);
      else if (!this.stuckAt.has(sensor.id)) this.stuckAt.set(sensor.id, Math.round(value * 100) / 100);
      if (stuck) value = this.stuckAt.get(sensor.id)!;
      return { sensorId: sensor.id, value: Math.round(value * 1000) / 1000 };
    });
    return { timestamp, readings };
  }
}

/** How a fault changes one channel's value; `progress` runs from 0 to 1 over the fault. */
function applyFault(kind: FaultKind, channel: Channel, value: number, spec: ChannelSpec, progress: number, rng: () => number): number {
  switch (kind) {
    case 'bearing_wear':
      // Vibration creeps up to about 40 noise sigmas, and the damaged race adds impacts, more often as it wears:
      // the slow rise alone is what a level-tracking detector learns as normal, the impacts it does not.
      if (channel !== 'vibration') return value;
      return value + spec.noise * (40 * progress * progress + (rng() < 0.02 + 0.1 * progress ? 10 + 10 * progress : 0));
    case 'cavitation': {
      // Bursts: a quarter of the seconds, vibration jumps, discharge pressure and flow dip.
      if (rng() > 0.25) return value;
      const burst = 6 + 6 * rng();
      if (channel === 'vibration') return value + burst * spec.noise * 3;
      if (channel === 'pressure' || channel === 'flow') return value - burst * spec.noise * 2;
      return value;
    }
    case 'stuck_sensor':
      return value; // frozen by next(), which remembers the value
    case 'valve_closing': {
      // The valve strokes shut in the fault's first tenth: flow falls to 30 %, the pump works against it (pressure up, current down).
      const closed = Math.min(1, progress * 10);
      if (channel === 'flow') return value * (1 - 0.7 * closed);
      if (channel === 'pressure') return value * (1 + 0.35 * closed);
      if (channel === 'current') return value * (1 - 0.2 * closed);
      return value;
    }
    case 'leak': {
      // A seal gives way within a few seconds: pressure down 15 %, flow up 12 %.
      const open = Math.min(1, progress * 50);
      if (channel === 'pressure') return value * (1 - 0.15 * open);
      if (channel === 'flow') return value * (1 + 0.12 * open);
      return value;
    }
  }
}
