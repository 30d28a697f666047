import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { invokeFunction, type LocalFunction } from '../../local/lambdaRuntime.js';
import { s3DatasetObjects } from '../../shared/aws/datasetObjects.js';
import { runOrder } from '../../shared/data/pipeline/context.js';
import { workflows } from '../../shared/catalog.js';
import { sagaDefinition } from '../../shared/platform/saga.js';
import { expectProblem, useLocalCloud } from './localCloudFixture.js';

/** What the local cloud reports (failed executions, handler errors), per test. */
const problems: string[] = [];
const local = useLocalCloud({ onProblem: (message) => problems.push(message) });
const skab = readFileSync(new URL('../fixtures/data/skab-valve1-0.csv', import.meta.url), 'utf8');

const s3 = () => new S3Client({ region: 'us-east-1', endpoint: local.cloud.endpoints.s3, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });

async function objectKeys(prefix: string): Promise<string[]> {
  const out = await s3().send(new ListObjectsV2Command({ Bucket: local.cloud.names.bucket('datasets'), Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

/** An upload of the dataset's raw file, as a client's PUT to the presigned URL makes it. */
async function upload(rawKey: string, body: string): Promise<void> {
  await s3().send(new PutObjectCommand({ Bucket: local.cloud.names.bucket('datasets'), Key: rawKey, Body: body }));
}

/** The pipeline as declared, with the function of `step` replaced. */
function withStep(step: string, replace: (real: LocalFunction) => LocalFunction['handler']) {
  const real = local.cloud.functions.get(workflows.datasetPipeline.steps.find((s) => s.name === step)!.functionName)!;
  const injected: LocalFunction = { spec: { name: 'injected', memoryMb: 512, timeoutSeconds: 60 }, handler: replace(real) };
  const saga = { ...workflows.datasetPipeline, steps: workflows.datasetPipeline.steps.map((s) => (s.name === step ? { ...s, functionName: 'injected' } : s)) };
  local.cloud.stateMachines.register('datasetPipeline', sagaDefinition(saga) as unknown as StateMachineDefinition, { functions: new Map([['injected', injected]]) });
}

/** Resolves when `check` holds, polling: the pipeline runs in events the cloud dispatches. */
async function until(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

type RunState = { runId: string; tenant: string; datasetId: string };

const datasetExecutions = (datasetId: string) =>
  local.cloud.stateMachines.executions('datasetPipeline').filter((e) => (JSON.parse(e.input) as { datasetId: string }).datasetId === datasetId);

describe('the dataset pipeline on the local cloud', () => {
  afterEach(() => {
    problems.length = 0;
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
    const created = await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'valve1-0', name: 'SKAB valve1 file 0', fileName: 'valve1-0.csv', sizeBytes: Buffer.byteLength(skab) }) });
    expect(created.status).toBe(201);
    const { upload, status } = (await created.json()) as { upload: { url: string }; status: string };
    expect(status).toBe('PENDING');

    const put = await fetch(upload.url, { method: 'PUT', body: skab });
    expect(put.status).toBe(200);

    const dataset = await local.settled(call, '/datasets/valve1-0');
    const runId = (dataset.run as { id: string }).id;
    const run = `datasets/plant-a/valve1-0/runs/${runId}`;
    expect(dataset).toMatchObject({ status: 'READY', rows: { raw: 1147, valid: 1147 }, processedKey: `${run}/processed/data.csv`, publishedRunId: runId });
    expect((dataset.schema as { sensorColumns: unknown[] }).sensorColumns).toHaveLength(8);
    expect(await objectKeys('datasets/plant-a/valve1-0/')).toEqual([
      'datasets/plant-a/valve1-0/raw/valve1-0.csv',
      `${run}/processed/data.csv`,
      `${run}/reports/quality.json`,
      `${run}/reports/validation.json`,
      `${run}/schema.json`,
    ]);

    const processed = (await s3DatasetObjects(local.cloud.names.bucket('datasets')).getText(`${run}/processed/data.csv`))!;
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

    const s3Event = (etag: string, versionId: string) => ({
      source: 'aws.s3',
      detailType: 'Object Created',
      detail: { bucket: { name: local.cloud.names.bucket('datasets') }, object: { key: created.rawKey, size: skab.length, etag, 'version-id': versionId } },
    });
    const first = JSON.parse(datasetExecutions('twice')[0].input) as { eTag: string; versionId: string };
    local.cloud.bus.put(s3Event(first.eTag, first.versionId)); // the same object, redelivered
    await local.cloud.drain();
    expect(datasetExecutions('twice')).toHaveLength(1);

    // The same bytes uploaded again are a new version of the object: a new run.
    local.cloud.bus.put(s3Event(first.eTag, 'another-version'));
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
    // Our DataValidationError's own words, which a person can act on.
    expect(dataset.failure.cause).toMatch(/^The header has a single column/);
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
      if (step === 'Publish') {
        // Publish committed the run before failing: a committed run is never undone.
        expect(dataset).toMatchObject({ status: 'READY', publishedRunId: (dataset.run as { id: string }).id });
        expect((await call(`/data/quality-report?datasetId=${id}`)).status).toBe(200);
        return;
      }
      // An error that is not one of ours is named, not quoted: its message stays in the log.
      expect(dataset).toMatchObject({ status: 'FAILED', failure: { step, cause: `An internal error (Error) stopped the ${step} step; re-run it (POST /datasets/{id}/runs), or report the run id.` } });
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

  it('runs again when the same bytes are uploaded after a failed run (each upload is a new version of the object)', async () => {
    let calls = 0;
    withStep('Validate', (real) => async (event: never) => {
      if (calls++ === 0) throw new Error('a passing failure');
      return invokeFunction(real, event);
    });
    const call = await local.client('plant-i');
    const created = (await (await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'retried', name: 'retried', content: skab }) })).json()) as { rawKey: string };
    expect(await local.settled(call, '/datasets/retried')).toMatchObject({ status: 'FAILED' });

    await upload(created.rawKey, skab); // the same bytes, so the same ETag
    await until(async () => datasetExecutions('retried').length === 2);
    const dataset = await local.settled(call, '/datasets/retried');
    expect(dataset).toMatchObject({ status: 'READY', rows: { raw: 1147 } });
    expect(dataset.failure).toBeUndefined();
  });

  for (const older of ['fails', 'goes on'] as const) {
    it(`keeps the newer run's outputs when an older run of the same dataset ${older} after the newer one published`, async () => {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let reached!: () => void;
      const olderAtProfile = new Promise<void>((resolve) => (reached = resolve));
      let olderRun: string | undefined;
      withStep('Profile', (real) => async (event: never) => {
        const { runId } = event as RunState;
        olderRun ??= runId;
        if (runId === olderRun) {
          reached();
          await released;
          if (older === 'fails') throw new Error('the older run fails late');
        }
        return invokeFunction(real, event);
      });
      const call = await local.client('plant-j');
      const id = `interleaved-${older.replace(' ', '-')}`;
      const created = (await (await call('/datasets', { method: 'POST', body: JSON.stringify({ id, name: id, content: skab }) })).json()) as { rawKey: string };
      await olderAtProfile;

      // A second upload while the first run is at Profile: the newer run takes the dataset over and publishes.
      await upload(created.rawKey, `${skab.split('\n').slice(0, 600).join('\n')}\n`);
      const status = async () => (await (await call(`/datasets/${id}`)).json()) as { status: string; run: { id: string } };
      await until(async () => (await status()).status === 'READY');
      const newer = (await status()).run.id;
      expect(newer).not.toBe(olderRun);

      release();
      await until(async () => datasetExecutions(id).every((e) => e.status !== 'RUNNING'));
      const dataset = await local.settled(call, `/datasets/${id}`);
      expect(dataset).toMatchObject({ status: 'READY', run: { id: newer }, rows: { raw: 599, valid: 599 } });
      expect(dataset.failure).toBeUndefined();
      const report = await call(`/data/quality-report?datasetId=${id}`);
      expect(report.status).toBe(200);
      expect(((await report.json()) as { summary: { rows: number } }).summary.rows).toBe(599);
      const processed = await s3DatasetObjects(local.cloud.names.bucket('datasets')).getText(dataset.processedKey as string);
      expect(processed?.trimEnd().split('\n').length).toBe((dataset.rows as { processed: number }).processed + 1);
      // The older run's compensations removed its own objects, and only those.
      const newerRun = `datasets/plant-j/${id}/runs/${newer}`;
      expect(await objectKeys(`datasets/plant-j/${id}/runs/`)).toEqual([
        `${newerRun}/processed/data.csv`,
        `${newerRun}/reports/quality.json`,
        `${newerRun}/reports/validation.json`,
        `${newerRun}/schema.json`,
      ]);
    });
  }

  it('lets Plan take a dataset over only from an earlier run: a run asked for before the current one stops at once', async () => {
    const call = await local.client('plant-n');
    const created = (await (await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'ordered', name: 'ordered', content: skab }) })).json()) as { rawKey: string };
    const current = (await local.settled(call, '/datasets/ordered')) as { status: string; run: { id: string; order: string } };
    expect(current.status).toBe('READY');
    const plan = local.cloud.functions.get('planDatasetStep')!;
    const input = (runId: string, order: string) => ({ tenant: 'plant-n', datasetId: 'ordered', key: created.rawKey, versionId: null, runId, order });

    await expect(invokeFunction(plan, input('ds-asked-earlier', runOrder('2020-01-01T00:00:00Z')))).rejects.toThrow(/superseded/);
    expect(await (await call('/datasets/ordered')).json()).toMatchObject({ status: 'READY', run: { id: current.run.id } });

    await invokeFunction(plan, input('ds-asked-later', runOrder(new Date(Date.now() + 60_000))));
    expect(await (await call('/datasets/ordered')).json()).toMatchObject({ status: 'VALIDATING', run: { id: 'ds-asked-later' }, publishedRunId: current.run.id });
  });

  it("re-runs the pipeline on demand: 202 with a new run; 404 for an unknown or another tenant's dataset; 409 while a run is in progress or before any file", async () => {
    const call = await local.client('plant-k');
    await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'rerun', name: 'rerun', content: skab }) });
    const first = (await local.settled(call, '/datasets/rerun')) as { status: string; run: { id: string } };
    expect(first.status).toBe('READY');

    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    withStep('Validate', (real) => async (event: never) => {
      await released;
      return invokeFunction(real, event);
    });
    const accepted = await call('/datasets/rerun/runs', { method: 'POST' });
    expect(accepted.status).toBe(202);
    const { runId } = (await accepted.json()) as { runId: string };
    expect(runId).not.toBe(first.run.id);
    await until(async () => ((await (await call('/datasets/rerun')).json()) as { status: string }).status === 'VALIDATING');
    expect(await expectProblem(await call('/datasets/rerun/runs', { method: 'POST' }), 409)).toMatchObject({ datasetStatus: 'VALIDATING' });
    release();

    expect(await local.settled(call, '/datasets/rerun')).toMatchObject({ status: 'READY', run: { id: runId }, publishedRunId: runId });
    // The first run's outputs went when the re-run's replaced them.
    expect(await objectKeys('datasets/plant-k/rerun/runs/')).toHaveLength(4);
    expect((await objectKeys('datasets/plant-k/rerun/runs/')).every((key) => key.includes(`/runs/${runId}/`))).toBe(true);

    await expectProblem(await (await local.client('plant-l'))('/datasets/rerun/runs', { method: 'POST' }), 404);
    await expectProblem(await call('/datasets/nothing-here/runs', { method: 'POST' }), 404);
    await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'no-file', name: 'no file' }) });
    await expectProblem(await call('/datasets/no-file/runs', { method: 'POST' }), 409);
  });

});
