/**
 * The Distributed Map of the dataset pipeline on the local cloud: files over a (here tiny) split
 * size are cut into chunks, processed by one function each, and merged; the dataset, its reports
 * and its processed file must be what the whole file gives when streamed by one function.
 */
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { invokeFunction, type LocalFunction } from '../../local/lambdaRuntime.js';
import { s3DatasetObjects } from '../../shared/aws/datasetObjects.js';
import { workflows } from '../../shared/catalog.js';
import { sourceFromText } from '../../shared/data/byte-source.js';
import { planChunks } from '../../shared/data/chunk-plan.js';
import type { DatasetSchema } from '../../shared/data/dataset-schema.js';
import { pipelineRecipe } from '../../shared/data/pipeline/context.js';
import { preprocessDataset } from '../../shared/data/preprocess-dataset.js';
import { profileDataset } from '../../shared/data/profile-dataset.js';
import { validateDataset } from '../../shared/data/validate-dataset.js';
import { sagaDefinition, sagaFunctionNames } from '../../shared/platform/saga.js';
import { useLocalCloud } from './localCloudFixture.js';

// Read by the Plan function when it loads, after the cloud starts: split anything over 64 KiB.
process.env.DATASET_SPLIT_BYTES = String(64 * 1024);
process.env.DATASET_CHUNK_BYTES = String(64 * 1024);
process.env.DATASET_CHUNK_HALO_BYTES = String(8 * 1024);

const local = useLocalCloud();

const sensors = ['s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8'];
const schema: DatasetSchema = { timestampColumn: 'time', sensorColumns: sensors.map((name) => ({ name })), expectedIntervalSeconds: 1 };

/**
 * About 560 KB of 1 s data with what the pipeline must handle across chunk edges: repeated rows,
 * 5 s gaps to impute, missing values, a stuck sensor for 300 rows, a level shift, bad timestamps.
 */
function generated(rows: number, badTimestampEvery = 0): string {
  const lines = [`time,${sensors.join(',')}`];
  let t = Date.UTC(2026, 0, 1);
  for (let i = 0; i < rows; i++) {
    t += i % 997 === 500 ? 5000 : 1000;
    const values = sensors.map((_, j) => {
      if ((i + j * 13) % 211 === 0) return '';
      if (j === 2 && i >= 3000 && i < 3300) return '7.5';
      const level = j === 4 && i > 4000 ? 25 : 20;
      return (level + Math.sin(i / (30 + j)) * 2 + ((i * 7919 + j * 104729) % 1000) / 1000).toFixed(3);
    });
    const time = badTimestampEvery > 0 && i % badTimestampEvery === 7 ? 'not-a-time' : new Date(t).toISOString();
    const line = `${time},${values.join(',')}`;
    lines.push(line);
    if (i % 613 === 100) lines.push(line);
  }
  return `${lines.join('\n')}\n`;
}

async function objectKeys(prefix: string): Promise<string[]> {
  const s3 = new S3Client({ region: 'us-east-1', endpoint: local.cloud.endpoints.s3, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  const out = await s3.send(new ListObjectsV2Command({ Bucket: local.cloud.names.bucket('datasets'), Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

async function processedWhole(text: string, inTimeOrder: boolean): Promise<string> {
  const parts: Buffer[] = [];
  const out = new Writable({ write: (chunk: Buffer, _encoding, done) => (parts.push(chunk), done()) });
  await preprocessDataset(sourceFromText(text), out, pipelineRecipe(schema, inTimeOrder), { schema });
  return Buffer.concat(parts).toString('utf8');
}

/** Where the dataset's current outputs are: under the run it published. */
const outputsOf = (dataset: Record<string, unknown>, tenant: string, id: string) => `datasets/${tenant}/${id}/runs/${dataset.publishedRunId as string}`;

const planOf = (datasetId: string) => {
  const execution = local.cloud.stateMachines.executions('datasetPipeline').find((e) => (JSON.parse(e.input) as { datasetId: string }).datasetId === datasetId);
  return (execution?.output as { steps: { Plan: { output: { chunked: boolean; chunks: unknown[] } } } } | undefined)?.steps.Plan.output;
};

describe('large files through the Distributed Map', () => {
  afterEach(() => {
    local.cloud.stateMachines.register('datasetPipeline', sagaDefinition(workflows.datasetPipeline) as unknown as StateMachineDefinition);
  });

  it('splits a file over the split size into chunks and ends with what the whole file gives: reports, rows and the processed file byte for byte', async () => {
    const text = generated(6000);
    const call = await local.client('big-a');
    const created = await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'split', name: 'split', schema, content: text }) });
    expect(created.status).toBe(201);

    const dataset = await local.settled(call, '/datasets/split', 25_000);
    const whole = await validateDataset(sourceFromText(text), { schema });
    expect(dataset).toMatchObject({ status: 'READY', rows: { raw: whole.counts.rows, valid: whole.counts.validRows } });
    const plan = planOf('split')!;
    expect(plan.chunked).toBe(true);
    expect(plan.chunks.length).toBeGreaterThanOrEqual(6);

    const objects = s3DatasetObjects(local.cloud.names.bucket('datasets'));
    const root = outputsOf(dataset, 'big-a', 'split');
    expect(await objectKeys('datasets/big-a/split/')).toEqual([
      'datasets/big-a/split/raw/data.csv',
      `${root}/processed/data.csv`,
      `${root}/reports/quality.json`,
      `${root}/reports/validation.json`,
      `${root}/schema.json`,
    ]);
    expect(await objectKeys('work/big-a/split/')).toEqual([]);
    expect(JSON.parse((await objects.getText(`${root}/reports/validation.json`))!)).toEqual(JSON.parse(JSON.stringify(whole)));
    expect(await objects.getText(`${root}/processed/data.csv`)).toBe(await processedWhole(text, whole.outOfOrderRows === 0));

    const merged = JSON.parse((await objects.getText(`${root}/reports/quality.json`))!) as Awaited<ReturnType<typeof profileDataset>>;
    const direct = await profileDataset(sourceFromText(text), { schema, datasetId: 'split' });
    expect({ ...merged.summary }).toEqual({ ...direct.summary });
    const findings = (r: typeof direct) => r.findings.map((f) => ({ check: f.check, column: f.column, severity: f.severity, count: f.count }));
    expect(findings(merged)).toEqual(findings(direct));
    expect(merged.findings.map((f) => f.check)).toEqual(expect.arrayContaining(['duplicate-timestamps', 'time-gaps', 'missing-values', 'flatline']));
  });

  it('streams the whole file at Preprocess when rows are out of time order across chunks, and gives what the whole file gives', async () => {
    const lines = generated(6000).trimEnd().split('\n');
    // Move a row 1,500 rows later (two chunks of about 800 rows, far beyond a halo) every 400 rows.
    for (let i = 200; i + 1500 < lines.length; i += 400) lines.splice(i + 1500, 0, ...lines.splice(i, 1));
    const text = `${lines.join('\n')}\n`;
    const call = await local.client('big-d');
    await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'shuffled', name: 'shuffled', schema, content: text }) });

    const dataset = await local.settled(call, '/datasets/shuffled', 25_000);
    const whole = await validateDataset(sourceFromText(text), { schema });
    expect(whole.outOfOrderRows).toBeGreaterThan(10);
    expect(dataset).toMatchObject({ status: 'READY', rows: { raw: whole.counts.rows, valid: whole.counts.validRows } });
    expect(planOf('shuffled')!.chunked).toBe(true);
    const objects = s3DatasetObjects(local.cloud.names.bucket('datasets'));
    expect(await objects.getText(`${outputsOf(dataset, 'big-d', 'shuffled')}/processed/data.csv`)).toBe(await processedWhole(text, false));
    expect(await objectKeys('work/big-d/shuffled/')).toEqual([]);
  });

  it('reads the whole file when a cut falls inside a quoted field holding a line break, and gives what the whole file gives', async () => {
    // Every row has a note across two lines: about half the newlines a cut can move to are inside quotes.
    const lines = generated(6000).trimEnd().split('\n');
    const text = `${lines.map((line, i) => (i === 0 ? `${line},note` : `${line},"inspected ${i}\nno remarks"`)).join('\n')}\n`;
    const call = await local.client('big-e');
    await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'notes', name: 'notes', schema, content: text }) });

    const dataset = await local.settled(call, '/datasets/notes', 25_000);
    const whole = await validateDataset(sourceFromText(text), { schema });
    expect(whole.valid).toBe(true);
    expect(dataset).toMatchObject({ status: 'READY', rows: { raw: whole.counts.rows, valid: whole.counts.validRows } });
    const execution = local.cloud.stateMachines.executions('datasetPipeline').find((e) => (JSON.parse(e.input) as { datasetId: string }).datasetId === 'notes');
    const steps = (execution?.output as { steps: { Plan: { output: { chunked: boolean } }; Validate: { output: { wholeFile?: boolean } } } }).steps;
    expect(steps.Plan.output.chunked).toBe(true);
    expect(steps.Validate.output.wholeFile).toBe(true);
    const objects = s3DatasetObjects(local.cloud.names.bucket('datasets'));
    expect(JSON.parse((await objects.getText(`${outputsOf(dataset, 'big-e', 'notes')}/reports/validation.json`))!)).toEqual(JSON.parse(JSON.stringify(whole)));
    expect(await objects.getText(`${outputsOf(dataset, 'big-e', 'notes')}/processed/data.csv`)).toBe(await processedWhole(text, true));
    expect(await objectKeys('work/big-e/notes/')).toEqual([]);
  });

  it('streams the whole file at Preprocess when a halo edge falls inside a quoted field, though every chunk reads well', async () => {
    // A note column of fixed width, so that a note with a line break ("abc\ndef") moves no byte: the plan is computed on the plain file.
    const lines = generated(6000).trimEnd().split('\n');
    const plain = Buffer.from(`${lines.map((line, i) => `${line},${i === 0 ? 'note' : 'remark-ok'}`).join('\n')}\n`);
    const plan = await planChunks({ size: plain.length, chunkBytes: 64 * 1024, haloBytes: 8 * 1024 }, async (a, b) => plain.subarray(a, b));
    const text = Buffer.from(plain);
    let broken = 0;
    for (const chunk of plan.chunks.slice(0, -1)) {
      // The halo after the chunk ends at the first newline from here: make it the one inside a note.
      const from = chunk.end + 8 * 1024 - 1;
      const rowEnd = text.indexOf(0x0a, from);
      const noteStart = rowEnd - 'remark-ok'.length;
      if (from > noteStart + 3 || rowEnd >= plan.chunks[chunk.index + 1].end) continue;
      text.write('"abc\ndef"', noteStart, 'latin1');
      broken++;
    }
    expect(broken).toBeGreaterThan(0);
    const call = await local.client('big-f');
    await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'halo-notes', name: 'halo notes', schema, content: text.toString('utf8') }) });

    const dataset = await local.settled(call, '/datasets/halo-notes', 25_000);
    const whole = await validateDataset(sourceFromText(text.toString('utf8')), { schema });
    expect(dataset).toMatchObject({ status: 'READY', rows: { raw: whole.counts.rows, valid: whole.counts.validRows } });
    expect(planOf('halo-notes')!.chunked).toBe(true);
    expect(await s3DatasetObjects(local.cloud.names.bucket('datasets')).getText(`${outputsOf(dataset, 'big-f', 'halo-notes')}/processed/data.csv`)).toBe(await processedWhole(text.toString('utf8'), true));
    expect(await objectKeys('work/big-f/halo-notes/')).toEqual([]);
  });

  it('gives the chunks the expected ranges of the registered sensors, so out-of-range counts are those of the whole file', async () => {
    const call = await local.client('big-g');
    const registered = await call('/sensors', { method: 'POST', body: JSON.stringify({ id: 's1', name: 'Sensor 1', type: 'pressure', unit: 'bar', expectedRange: { min: 18.5, max: 21.5 } }) });
    expect(registered.status).toBe(201);
    const text = generated(3000);
    await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'ranged', name: 'ranged', schema, content: text }) });

    const dataset = (await local.settled(call, '/datasets/ranged', 25_000)) as { status: string; schema: DatasetSchema; publishedRunId: string };
    expect(dataset.status).toBe('READY');
    expect(planOf('ranged')!.chunked).toBe(true);
    expect(dataset.schema.sensorColumns[0]).toEqual({ name: 's1', unit: 'bar', expectedRange: { min: 18.5, max: 21.5 }, sensorId: 's1' });
    const ranged = { ...schema, sensorColumns: [dataset.schema.sensorColumns[0], ...schema.sensorColumns.slice(1)] };
    const direct = (await profileDataset(sourceFromText(text), { schema: ranged, datasetId: 'ranged' })).findings.find((f) => f.check === 'out-of-range');
    expect(direct?.count).toBeGreaterThan(0);
    const merged = JSON.parse((await s3DatasetObjects(local.cloud.names.bucket('datasets')).getText(`${outputsOf(dataset, 'big-g', 'ranged')}/reports/quality.json`))!) as Awaited<ReturnType<typeof profileDataset>>;
    expect(merged.findings.find((f) => f.check === 'out-of-range')).toMatchObject({ column: 's1', count: direct!.count });
  });

  it('splits a JSON Lines file too, and ends with what the whole file gives', async () => {
    const [header, ...rows] = generated(6000).trimEnd().split('\n');
    const columns = header.split(',');
    const text = `${rows
      .map((line) => JSON.stringify(Object.fromEntries(line.split(',').map((cell, j) => [columns[j], j === 0 || cell === '' ? cell || null : Number(cell)]))))
      .join('\n')}\n`;
    const call = await local.client('big-h');
    await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'lines', name: 'lines', fileName: 'data.jsonl', schema, content: text }) });

    const dataset = await local.settled(call, '/datasets/lines', 25_000);
    const whole = await validateDataset(sourceFromText(text), { schema });
    expect(whole.valid).toBe(true);
    expect(dataset).toMatchObject({ status: 'READY', rows: { raw: whole.counts.rows, valid: whole.counts.validRows } });
    expect(planOf('lines')!.chunked).toBe(true);
    const objects = s3DatasetObjects(local.cloud.names.bucket('datasets'));
    expect(JSON.parse((await objects.getText(`${outputsOf(dataset, 'big-h', 'lines')}/reports/validation.json`))!)).toEqual(JSON.parse(JSON.stringify(whole)));
    expect(await objects.getText(`${outputsOf(dataset, 'big-h', 'lines')}/processed/data.csv`)).toBe(await processedWhole(text, whole.outOfOrderRows === 0));
  });

  it('fails a split file at Validate with the line numbers of the whole file, and leaves only the raw file', async () => {
    const text = generated(6000, 40);
    const call = await local.client('big-b');
    await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'bad-times', name: 'bad times', schema, content: text }) });

    const dataset = (await local.settled(call, '/datasets/bad-times', 25_000)) as { status: string; failure: { step: string; cause: string } };
    const whole = await validateDataset(sourceFromText(text), { schema });
    expect(whole.valid).toBe(false);
    expect(dataset.status).toBe('FAILED');
    expect(dataset.failure.step).toBe('Validate');
    expect(dataset.failure.cause).toContain(whole.fatalErrors[0].message);
    expect(planOf('bad-times')).toBeUndefined(); // a failed execution has no output; the map ran (see the keys below)
    expect(await objectKeys('datasets/big-b/bad-times/')).toEqual(['datasets/big-b/bad-times/raw/data.csv']);
    expect(await objectKeys('work/big-b/bad-times/')).toEqual([]);
  });

  for (const step of ['Split', 'Preprocess', 'Profile'] as const) {
    it(`compensates everything when ${step} fails on a split file after writing its output`, async () => {
      const scratchSeen: string[] = [];
      const real = workflows.datasetPipeline.steps.find((s) => s.name === step)!.functionName;
      const realFn = local.cloud.functions.get(real)!;
      const injected: LocalFunction = {
        spec: { name: 'injected', memoryMb: 512, timeoutSeconds: 60 },
        handler: async (event: never) => {
          if (step !== 'Split') scratchSeen.push(...(await objectKeys('work/big-c/')));
          const out = await invokeFunction(realFn, event);
          // In the map, only the third chunk fails: the others have written their results.
          if (step !== 'Split' || (event as { chunk: { index: number } }).chunk.index === 2) throw new Error(`injected failure at ${step}`);
          return out;
        },
      };
      const saga = { ...workflows.datasetPipeline, steps: workflows.datasetPipeline.steps.map((s) => (s.name === step ? { ...s, functionName: 'injected' } : s)) };
      local.cloud.stateMachines.register('datasetPipeline', sagaDefinition(saga) as unknown as StateMachineDefinition, { functions: new Map([['injected', injected]]) });

      const call = await local.client('big-c');
      const id = `fail-${step.toLowerCase()}`;
      await call('/datasets', { method: 'POST', body: JSON.stringify({ id, name: id, schema, content: generated(3000) }) });

      const dataset = await local.settled(call, `/datasets/${id}`, 25_000);
      // A plain Error is named, not quoted (a map item's failure is reported by the map).
      expect(dataset).toMatchObject({ status: 'FAILED', failure: { step, cause: expect.stringMatching(step === 'Split' ? /chunk|Split/ : `An internal error \\(Error\\) stopped the ${step} step`) } });
      expect(dataset.processedKey).toBeUndefined();
      expect(dataset.quality).toBeUndefined();
      expect(dataset.rows).toBeUndefined();
      expect(await objectKeys(`datasets/big-c/${id}/`)).toEqual([`datasets/big-c/${id}/raw/data.csv`]);
      expect(await objectKeys(`work/big-c/${id}/`)).toEqual([]);
      // The chunks had written their parts where the compensation looked for them.
      if (step !== 'Split') expect(scratchSeen.filter((k) => k.startsWith(`work/big-c/${id}/`)).length).toBeGreaterThan(0);
    });
  }

  it('keeps the state small for a declared schema of 1,000 columns: the schema and the chunk layout travel as objects of the run', async () => {
    const columns = Array.from({ length: 1000 }, (_, i) => `sensor_with_a_rather_long_descriptive_name_${String(i).padStart(4, '0')}`);
    const wide: DatasetSchema = { timestampColumn: 'time', sensorColumns: columns.map((name) => ({ name, unit: 'degC', expectedRange: { min: -1000.5, max: 1000.5 } })) };
    const rows = Array.from({ length: 40 }, (_, r) => [new Date(Date.UTC(2026, 0, 1) + r * 1000).toISOString(), ...columns.map((_, c) => ((r * 31 + c * 7) % 100) / 10)].join(','));
    const text = `time,${columns.join(',')}\n${rows.join('\n')}\n`;
    // Every task's input (the state, or a map item's) and output, as Step Functions would carry them; it caps each at 256 KiB.
    const sizes: { task: string; bytes: number }[] = [];
    const measured = new Map(
      sagaFunctionNames(workflows.datasetPipeline).map((name) => {
        const real = local.cloud.functions.get(name)!;
        const fn: LocalFunction = {
          spec: real.spec,
          handler: async (event: never) => {
            const out = await invokeFunction(real, event);
            sizes.push({ task: name, bytes: Buffer.byteLength(JSON.stringify(event)) }, { task: `${name} output`, bytes: Buffer.byteLength(JSON.stringify(out ?? null)) });
            return out;
          },
        };
        return [name, fn] as const;
      }),
    );
    local.cloud.stateMachines.register('datasetPipeline', sagaDefinition(workflows.datasetPipeline) as unknown as StateMachineDefinition, { functions: measured });

    const call = await local.client('big-w');
    expect((await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'wide', name: 'wide', schema: wide, content: text }) })).status).toBe(201);
    const dataset = (await local.settled(call, '/datasets/wide', 25_000)) as { status: string; schema: DatasetSchema };
    expect(dataset.status).toBe('READY');
    expect(dataset.schema.sensorColumns).toHaveLength(1000);
    expect(planOf('wide')!.chunked).toBe(true);
    expect(new Set(sizes.map((s) => s.task))).toEqual(new Set([...sagaFunctionNames(workflows.datasetPipeline).filter((n) => !['undoDatasetStep', 'failDatasetPipeline'].includes(n)).flatMap((n) => [n, `${n} output`])]));
    const largest = sizes.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    expect(largest.bytes, `${largest.task} carries ${largest.bytes} bytes`).toBeLessThan(16 * 1024);
  });

  it('joins parts of 5 MiB and more inside S3 (UploadPartCopy), and smaller ones by streaming', async () => {
    const objects = s3DatasetObjects(local.cloud.names.bucket('datasets'));
    const big = (c: string) => c.repeat(5 * 1024 * 1024 + 17);
    await objects.put('scratch/a', big('a'), 'text/plain');
    await objects.put('scratch/b', big('b'), 'text/plain');
    await objects.put('scratch/c', 'tail', 'text/plain');
    await objects.concat('scratch/joined', ['scratch/a', 'scratch/b', 'scratch/c'], 'text/plain');
    const joined = (await objects.getText('scratch/joined'))!;
    expect(joined.length).toBe(2 * (5 * 1024 * 1024 + 17) + 4);
    expect(joined.startsWith('aaa') && joined.includes('ab') && joined.endsWith('btail')).toBe(true);

    await objects.concat('scratch/small', ['scratch/c', 'scratch/c'], 'text/plain');
    expect(await objects.getText('scratch/small')).toBe('tailtail');
    await objects.removePrefix('scratch/');
    expect(await objectKeys('scratch/')).toEqual([]);
  });
});
