import { describe, expect, it } from 'vitest';
import { StreamingDetector } from '../../../shared/ml/streaming/detector.js';
import { PlantSimulator, faultKinds, type FaultKind, type InjectedFault } from '../../../shared/sensors/simulator.js';

const start = Date.parse('2026-03-01T00:00:00Z');
const seconds = 480 + 5 * 300;

/** The whole default run: every sensor's series, and the simulator that made it. */
function run(seed = 11) {
  const plant = new PlantSimulator({ seed, start });
  const series = new Map<string, number[]>(plant.sensors.map((s) => [s.id, []]));
  for (let t = 0; t < seconds; t++) for (const r of plant.next().readings) series.get(r.sensorId)!.push(r.value);
  return { plant, series };
}
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const faultOf = (plant: PlantSimulator, kind: FaultKind) => plant.faults.find((f) => f.kind === kind)!;
/** Values of a sensor over the fault's last `last` seconds, and over the minute before it started. */
function windows(series: Map<string, number[]>, fault: InjectedFault, channel: string, last = 30) {
  const values = series.get(`${fault.asset}-${channel}`)!;
  const end = fault.startSecond + fault.durationSeconds;
  return { before: values.slice(fault.startSecond - 60, fault.startSecond), during: values.slice(end - last, end) };
}

describe('the plant simulator', () => {
  const { plant, series } = run();

  it('is deterministic for a seed, and another seed gives other readings', () => {
    const again = new PlantSimulator({ seed: 11, start });
    const other = new PlantSimulator({ seed: 12, start });
    const first = Array.from({ length: 50 }, () => again.next());
    expect(first.map((t) => t.readings[0].value)).toEqual(series.get(plant.sensors[0].id)!.slice(0, 50));
    expect(Array.from({ length: 50 }, () => other.next().readings[0].value)).not.toEqual(first.map((t) => t.readings[0].value));
  });

  it('registers pumps and compressors with one reading a second, and reports each fault kind with its sensors and times', () => {
    expect(plant.sensors.map((s) => s.id)).toContain('pump-1-vibration');
    expect(plant.sensors.map((s) => s.id)).toContain('compressor-1-temperature');
    expect(plant.sensors.every((s) => s.samplingIntervalSeconds === 1 && s.group === s.asset)).toBe(true);
    expect(plant.faults.map((f) => f.kind)).toEqual([...faultKinds]);
    expect(faultOf(plant, 'bearing_wear')).toMatchObject({ startSecond: 480, from: '2026-03-01T00:08:00.000Z', sensorIds: [expect.stringMatching(/-vibration$/)] });
    expect(faultOf(plant, 'leak').sensorIds).toEqual([`${faultOf(plant, 'leak').asset}-pressure`, `${faultOf(plant, 'leak').asset}-flow`]);
  });

  it('bearing wear: vibration rises slowly', () => {
    const fault = faultOf(plant, 'bearing_wear');
    const { before, during } = windows(series, fault, 'vibration');
    const values = series.get(`${fault.asset}-vibration`)!;
    const early = values.slice(fault.startSecond, fault.startSecond + 30);
    expect(mean(early) - mean(before)).toBeLessThan(0.3);
    expect(mean(during) - mean(before)).toBeGreaterThan(2);
  });

  it('cavitation: vibration bursts and pressure dips', () => {
    const fault = faultOf(plant, 'cavitation');
    const vibration = windows(series, fault, 'vibration', fault.durationSeconds);
    const pressure = windows(series, fault, 'pressure', fault.durationSeconds);
    expect(Math.max(...vibration.during)).toBeGreaterThan(Math.max(...vibration.before) + 1);
    expect(Math.min(...pressure.during)).toBeLessThan(Math.min(...pressure.before) - 0.3);
  });

  it('stuck sensor: the pressure reads one value for the whole fault, and moves again after it', () => {
    const fault = faultOf(plant, 'stuck_sensor');
    const values = series.get(`${fault.asset}-pressure`)!;
    expect(new Set(values.slice(fault.startSecond, fault.startSecond + fault.durationSeconds)).size).toBe(1);
    expect(new Set(values.slice(fault.startSecond + fault.durationSeconds, fault.startSecond + fault.durationSeconds + 10)).size).toBeGreaterThan(5);
  });

  it('valve closing: flow falls, pressure rises, current falls', () => {
    const fault = faultOf(plant, 'valve_closing');
    const [flow, pressure, current] = (['flow', 'pressure', 'current'] as const).map((c) => windows(series, fault, c));
    expect(mean(flow.during)).toBeLessThan(mean(flow.before) * 0.4);
    expect(mean(pressure.during)).toBeGreaterThan(mean(pressure.before) * 1.3);
    expect(mean(current.during)).toBeLessThan(mean(current.before) * 0.85);
  });

  it('leak: pressure down, flow up', () => {
    const fault = faultOf(plant, 'leak');
    const pressure = windows(series, fault, 'pressure');
    const flow = windows(series, fault, 'flow');
    expect(mean(pressure.during)).toBeLessThan(mean(pressure.before) * 0.9);
    expect(mean(flow.during)).toBeGreaterThan(mean(flow.before) * 1.08);
  });

  it("each fault makes the streaming detector alarm on one of its sensors while it lasts, and the plant is quiet before the first", () => {
    const alarms = new Map<string, number[]>();
    for (const sensor of plant.sensors) {
      const detector = new StreamingDetector();
      alarms.set(sensor.id, series.get(sensor.id)!.flatMap((v, t) => (detector.update(v).label ? [t] : [])));
    }
    for (const fault of plant.faults) {
      const inside = fault.sensorIds.flatMap((id) => alarms.get(id)!.filter((t) => t >= fault.startSecond && t < fault.startSecond + fault.durationSeconds));
      expect(inside.length, fault.kind).toBeGreaterThan(0);
    }
    const falseAlarms = [...alarms.values()].flatMap((ts) => ts.filter((t) => t >= 400 && t < 480));
    expect(falseAlarms).toEqual([]);
  });
});
