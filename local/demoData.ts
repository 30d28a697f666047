import { readFile } from 'node:fs/promises';
import type { NewSensor } from '../shared/sensors/sensor.js';

/** The demo tenant `npm start` seeds and prints a token for. */
export const demoTenant = 'demo';

export const demoSensors: readonly NewSensor[] = [
  { id: 'pump-1-vibration', name: 'Pump 1 bearing vibration', type: 'vibration', unit: 'mm/s', group: 'pump-1', expectedRange: { min: 0, max: 12 }, samplingIntervalSeconds: 10, tags: { site: 'plant-a' } },
  { id: 'pump-1-temperature', name: 'Pump 1 casing temperature', type: 'temperature', unit: 'degC', group: 'pump-1', expectedRange: { min: 5, max: 90 }, samplingIntervalSeconds: 60, tags: { site: 'plant-a' } },
  { id: 'pump-1-pressure', name: 'Pump 1 discharge pressure', type: 'pressure', unit: 'bar', group: 'pump-1', expectedRange: { min: 0, max: 16 }, samplingIntervalSeconds: 10 },
  { id: 'compressor-2-current', name: 'Compressor 2 motor current', type: 'current', unit: 'A', group: 'compressor-2', expectedRange: { min: 0, max: 80 }, samplingIntervalSeconds: 5 },
];

/** Registers the demo sensors through the API itself; a 409 means an earlier start already did. */
export async function seedDemoData(apiUrl: string, token: string): Promise<number> {
  let created = 0;
  for (const sensor of demoSensors) {
    const response = await fetch(`${apiUrl}/api/v1/sensors`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(sensor),
    });
    if (response.status === 201) created += 1;
    else if (response.status !== 409) throw new Error(`Seeding sensor ${sensor.id} failed: ${response.status} ${await response.text()}`);
  }
  return created;
}

/** A real pump test-bed recording (SKAB valve1/0.csv, GPL-3.0, see test/fixtures/data/README.md). */
const demoDatasetFile = new URL('../test/fixtures/data/skab-valve1-0.csv', import.meta.url);
export const demoDatasetId = 'pump-testbed-valve1';

/**
 * Registers the demo dataset with its file inline, which drops it under raw/ and starts the
 * pipeline like any upload; a 200 or a 409 means an earlier start already did.
 */
export async function seedDemoDataset(apiUrl: string, token: string): Promise<boolean> {
  const response = await fetch(`${apiUrl}/api/v1/datasets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      id: demoDatasetId,
      name: 'Pump test bed, valve closed at the inlet (SKAB valve1/0)',
      fileName: 'valve1-0.csv',
      // The columns the pipeline would infer, two of them mapped to demo sensors: their expected
      // ranges come from the registry (the test bed's gauge pressure dips below 0 bar: out of range).
      schema: {
        delimiter: ';',
        timestampColumn: 'datetime',
        sensorColumns: [
          { name: 'Accelerometer1RMS' },
          { name: 'Accelerometer2RMS' },
          { name: 'Current' },
          { name: 'Pressure', sensorId: 'pump-1-pressure' },
          { name: 'Temperature', sensorId: 'pump-1-temperature' },
          { name: 'Thermocouple' },
          { name: 'Voltage' },
          { name: 'Volume Flow RateRMS' },
        ],
        labelColumn: 'anomaly',
        expectedIntervalSeconds: 1,
      },
      content: await readFile(demoDatasetFile, 'utf8'),
    }),
  });
  if (response.status === 201) return true;
  // 200: the same registration again (an earlier start made it); 409: the id taken otherwise.
  if (response.status === 200 || response.status === 409) return false;
  throw new Error(`Seeding dataset ${demoDatasetId} failed: ${response.status} ${await response.text()}`);
}

export const demoAlertRuleName = 'Pump 1 anomalies';

/**
 * The demo tenant's alert rule: an anomaly episode opening on pump 1 (the simulator's first fault)
 * emails maintenance through SNS and posts a signed webhook to the local receiver; both land in
 * the outbox. The receiver's port changes with every start, so an existing rule gets its targets again.
 */
export async function seedDemoAlertRule(apiUrl: string, token: string, webhookUrl: string): Promise<'created' | 'updated'> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const targets = [
    { kind: 'email', address: 'maintenance@plant-a.example' },
    { kind: 'webhook', url: webhookUrl },
  ];
  const listed = await fetch(`${apiUrl}/api/v1/monitoring/alerts?limit=100`, { headers });
  if (listed.status !== 200) throw new Error(`Listing alert rules failed: ${listed.status} ${await listed.text()}`);
  const existing = ((await listed.json()) as { items: { id: string; name: string }[] }).items.find((r) => r.name === demoAlertRuleName);
  const response = existing
    ? await fetch(`${apiUrl}/api/v1/monitoring/alerts/${existing.id}`, { method: 'PATCH', headers, body: JSON.stringify({ targets }) })
    : await fetch(`${apiUrl}/api/v1/monitoring/alerts`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ name: demoAlertRuleName, condition: { kind: 'anomalyOpened', on: { group: 'pump-1' } }, targets, cooldownSeconds: 600 }),
      });
  if (response.status !== (existing ? 200 : 201)) throw new Error(`Seeding the demo alert rule failed: ${response.status} ${await response.text()}`);
  return existing ? 'updated' : 'created';
}
