import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { invokeFunction, type LocalFunction } from '../../local/lambdaRuntime.js';
import { s3DatasetObjects } from '../../shared/aws/datasetObjects.js';
import { workflows } from '../../shared/catalog.js';
import { sagaDefinition } from '../../shared/platform/saga.js';
import { expectProblem, useLocalCloud } from './localCloudFixture.js';

const local = useLocalCloud();
const skab = readFileSync(new URL('../fixtures/data/skab-valve1-0.csv', import.meta.url), 'utf8');

async function objectKeys(prefix: string): Promise<string[]> {
  const s3 = new S3Client({ region: 'us-east-1', endpoint: local.cloud.endpoints.s3, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  const out = await s3.send(new ListObjectsV2Command({ Bucket: local.cloud.names.bucket('datasets'), Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

const datasetExecutions = (datasetId: string) =>
  local.cloud.stateMachines.executions('datasetPipeline').filter((e) => (JSON.parse(e.input) as { datasetId: string }).datasetId === datasetId);

describe('the dataset pipeline on the local cloud', () => {
  afterEach(() => {
    // Back to the pipeline as declared, after a test that injected a failure.
    local.cloud.stateMachines.register('datasetPipeline', sagaDefinition(workflows.datasetPipeline) as unknown as StateMachineDefinition);
  });

  it('takes expected ranges from the sensor registry (a column named after a sensor, or its declared sensorId), and refuses an unknown sensorId', async () => {
    const call = await local.client('plant-r');
    const unknown = await call('/datasets', {
      method: 'POST',
      body: JSON.stringify({ id: 'mapped', name: 'mapped', fileName: 'a.csv', schema: { timestampColumn: 'datetime', sensorColumns: [{ name: 'Temperature', sensorId: 'pump-temp' }] } }),
    });
    expect(await expectProblem(unknown, 422)).toMatchObject({ code: 'unknown_sensor', sensorIds: ['pump-temp'] });
    await expectProblem(await call('/datasets/mapped'), 404);

    const registered = await call('/sensors', { method: 'POST', body: JSON.stringify({ id: 'Temperature', name: 'Pump temperature', type: 'temperature', unit: 'degC', expectedRange: { min: 60, max: 78 } }) });
    expect(registered.status).toBe(201);
    await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'inferred', name: 'inferred', fileName: 'valve1-0.csv', content: skab }) });
    const dataset = (await local.settled(call, '/datasets/inferred')) as { status: string; schema: { sensorColumns: { name: string }[] } };
    expect(dataset.status).toBe('READY');
    expect(dataset.schema.sensorColumns.find((c) => c.name === 'Temperature')).toEqual({ name: 'Temperature', unit: 'degC', expectedRange: { min: 60, max: 78 }, sensorId: 'Temperature' });
    const report = (await (await call('/data/quality-report?datasetId=inferred')).json()) as { findings: { check: string; column?: string; count: number }[] };
    // 621 of the file's 1,147 temperatures are above 78 (counted with Python's csv module).
    expect(report.findings.find((f) => f.check === 'out-of-range' && f.column === 'Temperature')).toMatchObject({ count: 621 });
  });

  it('takes a file dropped through the presigned URL to READY, with its quality report as JSON and HTML', async () => {
    const call = await local.client('plant-a');
    const created = await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'valve1-0', name: 'SKAB valve1 file 0', fileName: 'valve1-0.csv' }) });
    expect(created.status).toBe(201);
    const { upload, status } = (await created.json()) as { upload: { url: string }; status: string };
    expect(status).toBe('PENDING');

    const put = await fetch(upload.url, { method: 'PUT', body: skab });
    expect(put.status).toBe(200);

    const dataset = await local.settled(call, '/datasets/valve1-0');
    expect(dataset).toMatchObject({ status: 'READY', rows: { raw: 1147, valid: 1147 }, processedKey: 'datasets/plant-a/valve1-0/processed/data.csv' });
    expect((dataset.schema as { sensorColumns: unknown[] }).sensorColumns).toHaveLength(8);
    expect(await objectKeys('datasets/plant-a/valve1-0/')).toEqual([
      'datasets/plant-a/valve1-0/processed/data.csv',
      'datasets/plant-a/valve1-0/raw/valve1-0.csv',
      'datasets/plant-a/valve1-0/reports/quality.json',
      'datasets/plant-a/valve1-0/reports/validation.json',
    ]);

    const processed = (await s3DatasetObjects(local.cloud.names.bucket('datasets')).getText('datasets/plant-a/valve1-0/processed/data.csv'))!;
    expect((dataset.rows as { processed: number }).processed).toBe(processed.trimEnd().split('\n').length - 1);

    const report = (await (await call('/data/quality-report?datasetId=valve1-0')).json()) as { summary: { rows: number } };
    expect(report.summary.rows).toBe(1147);
    const html = await call('/data/quality-report?datasetId=valve1-0', { headers: { accept: 'text/html' } });
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await html.text()).toContain('<svg');
  });

  it('starts one run when the same object arrives twice, and a new run for a new version', async () => {
    const call = await local.client('plant-b');
    const created = (await (await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'twice', name: 'twice', content: skab }) })).json()) as { rawKey: string };
    await local.settled(call, '/datasets/twice');
    expect(datasetExecutions('twice')).toHaveLength(1);

    const s3Event = (etag: string) => ({
      source: 'aws.s3',
      detailType: 'Object Created',
      detail: { bucket: { name: local.cloud.names.bucket('datasets') }, object: { key: created.rawKey, size: skab.length, etag } },
    });
    const first = datasetExecutions('twice')[0];
    const etag = (JSON.parse(first.input) as { eTag: string }).eTag;
    local.cloud.bus.put(s3Event(etag)); // the same object, redelivered
    await local.cloud.drain();
    expect(datasetExecutions('twice')).toHaveLength(1);

    local.cloud.bus.put(s3Event('"another-version"'));
    await local.cloud.drain();
    expect(datasetExecutions('twice')).toHaveLength(2);
    expect(((await (await call('/datasets/twice')).json()) as { status: string }).status).toBe('READY');
  });

  it('fails a garbage file at Validate with the cause, leaving only the raw file', async () => {
    const call = await local.client('plant-c');
    await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'garbage', name: 'garbage', content: 'hello\nworld\n' }) });

    const dataset = (await local.settled(call, '/datasets/garbage')) as { status: string; failure: { step: string; cause: string } };
    expect(dataset.status).toBe('FAILED');
    expect(dataset.failure.step).toBe('Validate');
    expect(dataset.failure.cause.length).toBeGreaterThan(10);
    expect(await objectKeys('datasets/plant-c/garbage/')).toEqual(['datasets/plant-c/garbage/raw/data.csv']);
    await expectProblem(await call('/data/quality-report?datasetId=garbage'), 404);
  });

  for (const step of ['Plan', 'Validate', 'Preprocess', 'Profile', 'Publish'] as const) {
    it(`compensates everything when ${step} fails after writing its output`, async () => {
      // The real step runs (and writes), then fails: the compensations must remove its writes too.
      const real = workflows.datasetPipeline.steps.find((s) => s.name === step)!.functionName;
      const realFn = local.cloud.functions.get(real)!;
      const injected: LocalFunction = {
        spec: { name: 'injected', memoryMb: 512, timeoutSeconds: 60 },
        handler: async (event: never) => {
          await invokeFunction(realFn, event);
          throw new Error(`injected failure at ${step}`);
        },
      };
      const saga = { ...workflows.datasetPipeline, steps: workflows.datasetPipeline.steps.map((s) => (s.name === step ? { ...s, functionName: 'injected' } : s)) };
      local.cloud.stateMachines.register('datasetPipeline', sagaDefinition(saga) as unknown as StateMachineDefinition, { functions: new Map([['injected', injected]]) });

      const call = await local.client('plant-d');
      const id = `fail-${step.toLowerCase()}`;
      await call('/datasets', { method: 'POST', body: JSON.stringify({ id, name: id, content: skab }) });

      const dataset = await local.settled(call, `/datasets/${id}`);
      expect(dataset).toMatchObject({ status: 'FAILED', failure: { step, cause: expect.stringContaining(`injected failure at ${step}`) } });
      expect(dataset.processedKey).toBeUndefined();
      expect(dataset.quality).toBeUndefined();
      expect(dataset.rows).toBeUndefined();
      expect(await objectKeys(`datasets/plant-d/${id}/`)).toEqual([`datasets/plant-d/${id}/raw/data.csv`]);
    });
  }

  it('keeps tenants apart and refuses bad registrations', async () => {
    const a = await local.client('plant-e');
    const b = await local.client('plant-f');
    await a('/datasets', { method: 'POST', body: JSON.stringify({ id: 'mine', name: 'mine', content: skab }) });
    await local.settled(a, '/datasets/mine');

    await expectProblem(await b('/datasets/mine'), 404);
    await expectProblem(await b('/data/quality-report?datasetId=mine'), 404);
    expect(((await (await b('/datasets')).json()) as { items: unknown[] }).items).toEqual([]);
    await expectProblem(await a('/datasets', { method: 'POST', body: JSON.stringify({ id: 'mine', name: 'again' }) }), 409);
    await expectProblem(await a('/datasets', { method: 'POST', body: JSON.stringify({ name: 'x', fileName: '../../etc/passwd' }) }), 400);
    await expectProblem(await a('/datasets', { method: 'POST', body: JSON.stringify({ name: 'x', unknown: 1 }) }), 400);
  });

  it('validates and preprocesses inline data synchronously', async () => {
    const call = await local.client('plant-g');
    const csv = 'time,temp\n2026-01-01T00:00:00Z,1\n2026-01-01T00:00:10Z,2\n2026-01-01T00:00:10Z,2\n2026-01-01T00:00:30Z,4\n';
    const validated = await call('/data/validate', { method: 'POST', body: JSON.stringify({ csv }) });
    expect(validated.status).toBe(200);
    expect(((await validated.json()) as { valid: boolean }).valid).toBe(true);

    const processed = await call('/data/preprocess', { method: 'POST', body: JSON.stringify({ csv, recipe: { resample: { intervalSeconds: 10 }, impute: { method: 'linear' } } }) });
    expect(processed.status).toBe(200);
    const { records } = (await processed.json()) as { records: { temp: number }[] };
    expect(records.map((r) => r.temp)).toEqual([1, 2, 3, 4]);

    await expectProblem(await call('/data/validate', { method: 'POST', body: JSON.stringify({ csv: '' }) }), 422);
    await expectProblem(await call('/data/validate', { method: 'POST', body: JSON.stringify({ csv, records: [] }) }), 400);
    await expectProblem(await call('/data/validate', { method: 'POST', body: JSON.stringify({ csv: '=cmd|calc,b\n1,2\n' }) }), 422);
  });
});
