import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../../../shared/data/registry/dataset.js';
import type { DatasetObjects, DatasetRepository } from '../../../../shared/data/registry/datasetRepository.js';
import { registerDataset } from '../../../../shared/data/registry/datasets.js';
import { uploadLimits } from '../../../../shared/data/registry/uploadLimits.js';
import { ConflictError, DependencyError } from '../../../../shared/platform/errors.js';

/** A dataset table and bucket in memory; `failPuts` PUTs fail as S3 does under throttling. */
function fakes(failPuts = 0) {
  const records = new Map<string, Dataset>();
  const objects = new Map<string, string>();
  let failures = failPuts;
  const datasets: Pick<DatasetRepository, 'create' | 'get'> = {
    create: async (tenant, dataset) => {
      if (records.has(`${tenant}/${dataset.id}`)) throw new ConflictError(`A dataset with id "${dataset.id}" already exists.`);
      records.set(`${tenant}/${dataset.id}`, dataset);
    },
    get: async (tenant, id) => records.get(`${tenant}/${id}`),
  };
  const bucket: Pick<DatasetObjects, 'put' | 'head' | 'presignUpload'> = {
    put: async (key, body) => {
      if (failures-- > 0) throw new DependencyError('S3 is unavailable; retry later.');
      objects.set(key, String(body));
    },
    head: async (key) => (objects.has(key) ? { size: objects.get(key)!.length } : undefined),
    presignUpload: async (key, _expires, size) => ({ url: `https://s3.example/${key}?size=${size}`, headers: { 'content-length': String(size) } }),
  };
  const deps = { datasets: datasets as DatasetRepository, objects: bucket as DatasetObjects, sensors: { get: async () => undefined }, limits: uploadLimits({}) };
  return { deps, records, objects };
}

const input = { id: 'd1', name: 'one', fileName: 'a.csv', content: 'time,x\n2026-01-01T00:00:00Z,1\n' };

describe('registering a dataset inline, retried', () => {
  it('after the file write failed (503): the retry writes the file and answers the dataset', async () => {
    const { deps, objects } = fakes(1);
    await expect(registerDataset(deps, 'acme', input)).rejects.toBeInstanceOf(DependencyError);
    expect(objects.size).toBe(0);

    const retried = await registerDataset(deps, 'acme', { ...input });
    expect(retried).toMatchObject({ replayed: true, dataset: { id: 'd1', status: 'PENDING' } });
    expect(objects.get('datasets/acme/d1/raw/a.csv')).toBe(input.content);
  });

  it('after a lost answer: the same dataset, the file not written again', async () => {
    const { deps, objects } = fakes();
    const first = await registerDataset(deps, 'acme', input);
    objects.set('datasets/acme/d1/raw/a.csv', 'sentinel: a second PUT would overwrite this');
    const again = await registerDataset(deps, 'acme', input);
    expect(again).toEqual({ dataset: first.dataset, replayed: true });
    expect(objects.get('datasets/acme/d1/raw/a.csv')).toMatch(/^sentinel/);
  });

  it('with another body, or as an upload registration, is a 409', async () => {
    const { deps } = fakes();
    await registerDataset(deps, 'acme', input);
    await expect(registerDataset(deps, 'acme', { ...input, content: `${input.content}2026-01-01T00:00:01Z,2\n` })).rejects.toBeInstanceOf(ConflictError);
    await expect(registerDataset(deps, 'acme', { ...input, description: 'other' })).rejects.toBeInstanceOf(ConflictError);
    await expect(registerDataset(deps, 'acme', { id: 'd1', name: 'one', fileName: 'a.csv', sizeBytes: 10 })).rejects.toBeInstanceOf(ConflictError);
    // Another tenant's id is its own.
    expect((await registerDataset(deps, 'other', input)).replayed).toBe(false);
  });
});
