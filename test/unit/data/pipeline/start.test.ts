import { describe, expect, it } from 'vitest';
import { rerunOrder, runOrder, uploadOrder } from '../../../../shared/data/pipeline/context.js';
import { startDatasetPipeline } from '../../../../shared/data/pipeline/start.js';
import type { Dataset } from '../../../../shared/data/registry/dataset.js';
import type { DatasetRepository } from '../../../../shared/data/registry/datasetRepository.js';
import type { WorkflowStarter } from '../../../../shared/platform/workflows.js';

const known = new Set(['acme/ds-1']);
const datasets = { get: async (tenant: string, id: string) => (known.has(`${tenant}/${id}`) ? ({ id } as Dataset) : undefined) } as unknown as DatasetRepository;

function starter(): WorkflowStarter & { runs: string[] } {
  const runs: string[] = [];
  return { runs, start: async (name) => (runs.includes(name) ? 'duplicate' : (runs.push(name), 'started')) };
}

const event = (key: string, etag = '"abc"', versionId?: string, time = '2026-12-06T06:00:00Z', sequencer = '0062F1A3B4C5D6E7F8') => ({
  'detail-type': 'Object Created',
  source: 'aws.s3',
  time,
  detail: { bucket: { name: 'b' }, object: { key, etag, sequencer, ...(versionId ? { 'version-id': versionId } : {}) } },
});

describe('starting the dataset pipeline on an upload', () => {
  it('starts one run per object version, and a new run for a new version', async () => {
    const workflows = starter();
    const first = await startDatasetPipeline({ datasets, workflows }, event('datasets/acme/ds-1/raw/data.csv'));
    const again = await startDatasetPipeline({ datasets, workflows }, event('datasets/acme/ds-1/raw/data.csv'));
    const newer = await startDatasetPipeline({ datasets, workflows }, event('datasets/acme/ds-1/raw/data.csv', '"def"'));

    expect([first.outcome, again.outcome, newer.outcome]).toEqual(['started', 'duplicate', 'started']);
    expect(first.runId).toBe(again.runId);
    expect(newer.runId).not.toBe(first.runId);
  });

  it('names the run after the object version: the same bytes uploaded again (same ETag, new version) start a new run', async () => {
    const workflows = starter();
    const first = await startDatasetPipeline({ datasets, workflows }, event('datasets/acme/ds-1/raw/data.csv', '"abc"', 'v1'));
    const redelivered = await startDatasetPipeline({ datasets, workflows }, event('datasets/acme/ds-1/raw/data.csv', '"abc"', 'v1'));
    const uploadedAgain = await startDatasetPipeline({ datasets, workflows }, event('datasets/acme/ds-1/raw/data.csv', '"abc"', 'v2'));

    expect([first.outcome, redelivered.outcome, uploadedAgain.outcome]).toEqual(['started', 'duplicate', 'started']);
    expect(uploadedAgain.runId).not.toBe(first.runId);
  });

  it('gives the run the version to pin and its order: upload time first, then the sequencer', async () => {
    const inputs: Record<string, unknown>[] = [];
    const workflows: WorkflowStarter = { start: async (_name, input) => (inputs.push(input), 'started') };
    await startDatasetPipeline({ datasets, workflows }, event('datasets/acme/ds-1/raw/data.csv', '"abc"', 'v1', '2026-12-06T06:00:01Z', '00AA'));
    await startDatasetPipeline({ datasets, workflows }, event('datasets/acme/ds-1/raw/data.csv', '"abc"', 'v2', '2026-12-06T06:00:01Z', '00AB'));
    await startDatasetPipeline({ datasets, workflows }, event('datasets/acme/ds-1/raw/data.csv', '"abc"', 'v3', '2026-12-06T06:00:02Z', '0000'));

    expect(inputs.map((i) => i.versionId)).toEqual(['v1', 'v2', 'v3']);
    const orders = inputs.map((i) => i.order as string);
    expect([...orders].sort()).toEqual(orders);
    expect(new Set(orders).size).toBe(3);
  });

  it('orders a re-run and an upload of the same second as they happened: the upload (whole-second event time) after a re-run asked before it, a re-run after the run it replaces', () => {
    // A re-run at .400, then a file uploaded in that second: S3's event says 06:00:00.
    expect(rerunOrder(new Date('2026-12-06T06:00:00.400Z'), undefined) < uploadOrder('2026-12-06T06:00:00Z', '01')).toBe(true);
    // A file uploaded at 06:00:00, its run over, then a re-run at .700: the re-run replaces it, and a later upload still wins.
    const upload = uploadOrder('2026-12-06T06:00:00Z', '0A');
    const rerun = rerunOrder(new Date('2026-12-06T06:00:00.700Z'), upload);
    expect(upload < rerun).toBe(true);
    expect(rerun < uploadOrder('2026-12-06T06:00:00Z', '0B')).toBe(true);
    expect(rerun < uploadOrder('2026-12-06T06:00:01Z', '00')).toBe(true);
    // A re-run long after its run keeps its own time.
    expect(rerunOrder(new Date('2026-12-06T07:00:00Z'), upload)).toBe(runOrder('2026-12-06T07:00:00Z'));
  });

  it('compares sequencers of different lengths as S3 says: left-padded', () => {
    expect(runOrder('2026-12-06T06:00:00Z', 'FF') < runOrder('2026-12-06T06:00:00Z', '100')).toBe(true);
  });

  it('ignores objects outside raw/, of unknown datasets, with path tricks or undecodable keys', async () => {
    const workflows = starter();
    const outcomes = await Promise.all(
      ['datasets/acme/ds-1/processed/data.csv', 'datasets/acme/ds-2/raw/data.csv', 'datasets/acme/../raw/x.csv', 'datasets/acme/ds-1/raw/%E0%A4%A.csv'].map(
        async (key) => (await startDatasetPipeline({ datasets, workflows }, event(key))).outcome,
      ),
    );

    expect(outcomes).toEqual(['not-a-dataset-upload', 'unknown-dataset', 'not-a-dataset-upload', 'started']);
    expect(workflows.runs).toHaveLength(1);
  });

  it('refuses an event that is not an S3 Object Created event', async () => {
    await expect(startDatasetPipeline({ datasets, workflows: starter() }, { source: 'telltale', detail: {} })).rejects.toThrow();
  });
});
