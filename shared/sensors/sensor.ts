import { z } from 'zod';
import { resourceId } from '../platform/ids.js';

export const sensorTypes = ['vibration', 'temperature', 'pressure', 'flow', 'current', 'voltage', 'other'] as const;

export const expectedRange = z
  .strictObject({
    min: z.number().describe('Lowest plausible value'),
    max: z.number().describe('Highest plausible value'),
  })
  .refine((r) => r.min < r.max, { message: 'min must be less than max', path: ['max'] });

/** What a client sends to register a sensor. Unknown fields are refused, so typos do not vanish. */
export const newSensor = z.strictObject({
  id: resourceId.describe('Unique within the tenant, chosen by the client'),
  name: z.string().trim().min(1).max(200),
  type: z.enum(sensorTypes),
  unit: z.string().trim().min(1).max(32).describe('Engineering unit, e.g. "mm/s", "degC", "bar"'),
  group: resourceId.optional().describe('The asset or sensor group the sensor belongs to'),
  expectedRange: expectedRange.optional(),
  samplingIntervalSeconds: z.number().positive().max(86_400).optional().describe('Nominal seconds between readings'),
  warmupDatasetId: resourceId
    .optional()
    .describe("A READY dataset whose column for this sensor (mapped by sensorId, or named as the sensor) warms up its streaming detector, instead of the sensor's first readings"),
  tags: z
    .record(z.string().min(1).max(128), z.string().max(256))
    .refine((t) => Object.keys(t).length <= 50, 'At most 50 tags')
    .optional(),
});
export type NewSensor = z.infer<typeof newSensor>;

export const sensor = newSensor.extend({
  createdAt: z.iso.datetime(),
});
export type Sensor = z.infer<typeof sensor>;
