import { describe, expect, it } from 'vitest';
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

const event = (key: string, etag = '"abc"') => ({ 'detail-type': 'Object Created', source: 'aws.s3', detail: { bucket: { name: 'b' }, object: { key, etag } } });

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
