import { describe, expect, it } from 'vitest';
import type { DatasetSchema } from '../../../shared/data/dataset-schema.js';
import { withRegistryRanges, type SensorLookup } from '../../../shared/data/sensor-ranges.js';

const registry: Record<string, { unit?: string; expectedRange?: { min: number; max: number } }> = {
  'pump-temp': { unit: 'degC', expectedRange: { min: 0, max: 90 } },
  flow: { unit: 'm3/h', expectedRange: { min: 0, max: 40 } },
  vibration: { unit: 'mm/s' },
};

function recording(): { lookup: SensorLookup; asked: string[] } {
  const asked: string[] = [];
  return { asked, lookup: async (id) => (asked.push(id), registry[id]) };
}

describe('expected ranges from the sensor registry', () => {
  it('maps a column by its sensorId, else by a name that is a sensor id; what the column declares wins', async () => {
    const schema: DatasetSchema = {
      timestampColumn: 'time',
      sensorColumns: [
        { name: 'T1', sensorId: 'pump-temp' },
        { name: 'flow', expectedRange: { min: 5, max: 30 } },
        { name: 'vibration' },
        { name: 'unregistered' },
        { name: 'Volume Flow RateRMS' },
      ],
    };
    const { lookup, asked } = recording();
    const out = await withRegistryRanges(schema, lookup);
    expect(out.sensorColumns).toEqual([
      { name: 'T1', sensorId: 'pump-temp', unit: 'degC', expectedRange: { min: 0, max: 90 } },
      { name: 'flow', expectedRange: { min: 5, max: 30 }, unit: 'm3/h', sensorId: 'flow' },
      { name: 'vibration', unit: 'mm/s', sensorId: 'vibration' },
      { name: 'unregistered' },
      { name: 'Volume Flow RateRMS' },
    ]);
    // A name that cannot be a sensor id is not looked up.
    expect(asked.sort()).toEqual(['flow', 'pump-temp', 'unregistered', 'vibration']);
    expect(out.timestampColumn).toBe('time');
  });

  it('does not ask the registry about a column that declares both its range and its unit', async () => {
    const { lookup, asked } = recording();
    const schema: DatasetSchema = { timestampColumn: 'time', sensorColumns: [{ name: 'flow', unit: 'l/s', expectedRange: { min: 1, max: 2 } }] };
    expect(await withRegistryRanges(schema, lookup)).toEqual(schema);
    expect(asked).toEqual([]);
  });
});
