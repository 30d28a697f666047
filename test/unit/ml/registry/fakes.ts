/** In-memory stand-ins for the registry's ports, for the use-case tests (the adapters have their own mocked-SDK tests). */
import { ConflictError } from '../../../../shared/platform/errors.js';
import type { Dataset } from '../../../../shared/data/registry/dataset.js';
import type { DatasetRepository } from '../../../../shared/data/registry/datasetRepository.js';
import type { ModelRecord } from '../../../../shared/ml/registry/model.js';
import type { ModelArtifacts, ModelRepository, TrainingStarter } from '../../../../shared/ml/registry/modelRepository.js';
import type { ModelEvents } from '../../../../shared/ml/registry/training.js';

export function memoryModels(): ModelRepository & { items: Map<string, ModelRecord>; versions: Map<string, ModelRecord> } {
  const items = new Map<string, ModelRecord>();
  /** Version items, keyed tenant/id@version. */
  const versions = new Map<string, ModelRecord>();
  const k = (tenant: string, id: string) => `${tenant}/${id}`;
  const v = (tenant: string, id: string, version: number) => `${tenant}/${id}@${version}`;
  return {
    items,
    versions,
    async getVersion(tenant, id, version) {
      const m = versions.get(v(tenant, id, version)) ?? (items.get(k(tenant, id))?.version === version ? items.get(k(tenant, id)) : undefined);
      return m ? structuredClone(m) : undefined;
    },
    async listVersions(tenant, id) {
      const mine = [...versions.entries()].filter(([key]) => key.startsWith(`${k(tenant, id)}@`)).map(([, m]) => structuredClone(m));
      return { items: mine.sort((a, b) => b.version - a.version) };
    },
    async createVersion(tenant, model) {
      if (versions.has(v(tenant, model.id, model.version))) throw new ConflictError('version taken');
      versions.set(v(tenant, model.id, model.version), structuredClone(model));
    },
    async saveVersion(tenant, model) {
      versions.set(v(tenant, model.id, model.version), structuredClone(model));
    },
    async promote(tenant, model) {
      const current = items.get(k(tenant, model.id));
      if (current && current.version >= model.version) return false;
      items.set(k(tenant, model.id), structuredClone(model));
      return true;
    },
    async create(tenant, model) {
      if (items.has(k(tenant, model.id))) throw new ConflictError('taken');
      items.set(k(tenant, model.id), structuredClone(model));
    },
    async get(tenant, id) {
      const m = items.get(k(tenant, id));
      return m ? structuredClone(m) : undefined;
    },
    async list(tenant) {
      return { items: [...items.entries()].filter(([key]) => key.startsWith(`${tenant}/`)).map(([, m]) => m) };
    },
    async update(tenant, id, changes, guard, remove = []) {
      const m = items.get(k(tenant, id));
      if (!m || m.jobId !== guard.jobId || (guard.allowedFrom && !guard.allowedFrom.includes(m.status))) return false;
      const next = { ...m, ...structuredClone(changes) } as Record<string, unknown>;
      for (const f of remove) delete next[f];
      items.set(k(tenant, id), next as ModelRecord);
      return true;
    },
  };
}

export function memoryArtifacts(): ModelArtifacts & { objects: Map<string, Uint8Array>; removed: string[][] } {
  const objects = new Map<string, Uint8Array>();
  const removed: string[][] = [];
  return {
    objects,
    removed,
    async put(key, body) {
      objects.set(key, typeof body === 'string' ? new TextEncoder().encode(body) : body);
    },
    async getBytes(key) {
      return objects.get(key);
    },
    async copy(from, to) {
      const body = objects.get(from);
      if (!body) throw Object.assign(new Error(`no ${from}`), { name: 'NoSuchKey' });
      objects.set(to, body);
    },
    async remove(keys) {
      removed.push([...keys]);
      for (const key of keys) objects.delete(key);
    },
  };
}

export function memoryDatasets(datasets: Dataset[]): DatasetRepository {
  return {
    create: async () => undefined,
    get: async (_tenant, id) => datasets.find((d) => d.id === id),
    list: async () => ({ items: datasets }),
    update: async () => true,
    takeOver: async () => true,
    remove: async () => true,
    clear: async () => undefined,
  };
}

export function recordingStarter(): TrainingStarter & { calls: { name: string; input: unknown }[] } {
  const calls: { name: string; input: unknown }[] = [];
  return {
    calls,
    start: async (name, input) => {
      calls.push({ name, input: structuredClone(input) });
      return 'started';
    },
  };
}

export function recordingEvents(failWith?: Error): ModelEvents & { published: { type: string; detail: Record<string, unknown> }[] } {
  const published: { type: string; detail: Record<string, unknown> }[] = [];
  return {
    published,
    async publish(type, detail) {
      if (failWith) throw failWith;
      published.push({ type, detail });
    },
  };
}

export const readyDataset = (overrides: Partial<Dataset> = {}): Dataset => ({
  id: 'plant-1',
  name: 'Plant 1',
  status: 'READY',
  fileName: 'data.csv',
  rawKey: 'datasets/acme/plant-1/raw/data.csv',
  processedKey: 'datasets/acme/plant-1/processed/data.csv',
  schema: { timestampColumn: 'time', sensorColumns: [{ name: 'a' }, { name: 'b' }, { name: 'c' }], labelColumn: 'anomaly' },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...overrides,
});
