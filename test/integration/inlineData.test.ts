import { describe, expect, it } from 'vitest';
import { expectProblem, useLocalCloud } from './localCloudFixture.js';

const local = useLocalCloud();

const withBadCell = 'time,temp\n2026-01-01T00:00:00Z,1\n2026-01-01T00:00:10Z,abc\n2026-01-01T00:00:20Z,3\n2026-01-01T00:00:30Z,4\n';

describe('POST /data/validate gives the verdict POST /datasets gives', () => {
  it('a row error makes the data not valid, yet accepted, as the pipeline takes it to READY', async () => {
    const call = await local.client('verdict-a');
    const validated = await call('/data/validate', { method: 'POST', body: JSON.stringify({ csv: withBadCell }) });
    expect(validated.status).toBe(200);
    const report = (await validated.json()) as { valid: boolean; accepted: boolean; rowErrors: { code: string }[] };
    expect(report.rowErrors).toEqual([expect.objectContaining({ code: 'NON_NUMERIC_VALUE', line: 3 })]);
    expect(report).toMatchObject({ valid: false, accepted: true });

    await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'bad-cell', name: 'bad cell', content: withBadCell }) });
    expect(await local.settled(call, '/datasets/bad-cell')).toMatchObject({ status: 'READY', rows: { raw: 4, valid: 3 } });

    const clean = (await (await call('/data/validate', { method: 'POST', body: JSON.stringify({ csv: withBadCell.replace('abc', '2') }) })).json()) as object;
    expect(clean).toMatchObject({ valid: true, accepted: true });
  });

  it('a declared sensorId the registry does not have is a 422 unknown_sensor in both; a registered one passes both', async () => {
    const call = await local.client('verdict-b');
    const schema = { timestampColumn: 'time', sensorColumns: [{ name: 'temp', sensorId: 'pump-temp' }] };
    const csv = withBadCell.replace('abc', '2');

    expect(await expectProblem(await call('/data/validate', { method: 'POST', body: JSON.stringify({ csv, schema }) }), 422)).toMatchObject({ code: 'unknown_sensor', sensorIds: ['pump-temp'] });
    expect(await expectProblem(await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'mapped', name: 'mapped', schema, content: csv }) }), 422)).toMatchObject({
      code: 'unknown_sensor',
      sensorIds: ['pump-temp'],
    });

    // Another tenant's sensor is not this tenant's.
    const other = await local.client('verdict-c');
    expect((await other('/sensors', { method: 'POST', body: JSON.stringify({ id: 'pump-temp', name: 'temp', type: 'temperature', unit: 'degC' }) })).status).toBe(201);
    await expectProblem(await call('/data/validate', { method: 'POST', body: JSON.stringify({ csv, schema }) }), 422);

    expect((await call('/sensors', { method: 'POST', body: JSON.stringify({ id: 'pump-temp', name: 'temp', type: 'temperature', unit: 'degC' }) })).status).toBe(201);
    expect(await (await call('/data/validate', { method: 'POST', body: JSON.stringify({ csv, schema }) })).json()).toMatchObject({ valid: true, accepted: true });
    expect((await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'mapped', name: 'mapped', schema, content: csv }) })).status).toBe(201);
  });
});

describe('POST /data/preprocess bounds its output by its input', () => {
  const sparse = (rows: number, seconds: number) =>
    `time,temp\n${Array.from({ length: rows }, (_, i) => `${new Date(Date.UTC(2026, 0, 1) + i * seconds * 1000).toISOString()},${i}`).join('\n')}\n`;

  it('a few sparse rows resampled to a second stay a few rows, and the answer says which empty buckets it refused', async () => {
    const call = await local.client('bound-a');
    const csv = sparse(20, 5000);
    const response = await call('/data/preprocess', { method: 'POST', body: JSON.stringify({ csv, recipe: { resample: { intervalSeconds: 1 } } }) });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { result: Record<string, number>; records: unknown[] };
    expect(body.records).toHaveLength(20);
    expect(body.result).toMatchObject({ rowsIn: 20, rowsOut: 20, gapsLeft: 19, emptyBucketsRefused: 19 * 4999 });
  });

  it('refuses a recipe that lets one row become a million (400), and records over the byte cap (422 OUTPUT_TOO_LARGE)', async () => {
    const call = await local.client('bound-b');
    const csv = sparse(300, 1000);
    await expectProblem(await call('/data/preprocess', { method: 'POST', body: JSON.stringify({ csv, recipe: { resample: { intervalSeconds: 1, maxEmptyBuckets: 1_000_000 } } }) }), 400);
    const tooLarge = await expectProblem(await call('/data/preprocess', { method: 'POST', body: JSON.stringify({ csv, recipe: { resample: { intervalSeconds: 1, maxEmptyBuckets: 1000 } } }) }), 422);
    expect(tooLarge.issues).toEqual([expect.objectContaining({ code: 'OUTPUT_TOO_LARGE' })]);
  });
});
