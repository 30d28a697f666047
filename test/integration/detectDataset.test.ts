import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DetectResponse } from '../../shared/ml/api/contract.js';
import { allScopes, expectProblem, useLocalCloud } from './localCloudFixture.js';

const local = useLocalCloud();
const skab = readFileSync(new URL('../fixtures/data/skab-valve1-0.csv', import.meta.url), 'utf8');

async function client(tenant: string) {
  const token = await local.cloud.mintToken({ tenant, scopes: allScopes });
  return (path: string, body?: unknown) =>
    fetch(`${local.cloud.url}/api/v1${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
}

/** Drains the local cloud until the dataset's pipeline has finished (the S3 notification may still be in flight at the first drain). */
async function readyOrFail(call: Awaited<ReturnType<typeof client>>, id: string): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    await local.cloud.drain();
    const { status } = (await (await call(`/datasets/${id}`)).json()) as { status: string };
    if (status === 'READY') return;
    if (status === 'FAILED' || Date.now() > until) throw new Error(`dataset ${id} is ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('POST /ml/detect by dataset id on the local cloud', () => {
  it('detects on a READY dataset read from its processed file, and refuses one not READY or another tenant\'s', async () => {
    const call = await client('detect-a');
    expect((await call('/datasets', { id: 'valve', name: 'SKAB valve1 file 0', content: skab })).status).toBe(201);
    expect(await expectProblem(await call('/ml/detect', { dataset: { id: 'valve' } }), 409)).toMatchObject({ datasetStatus: 'PENDING' }); // until the pipeline has run
    await readyOrFail(call, 'valve');
    // The processed file is resampled to the 1 s interval: its gaps filled, 1147 raw rows become 1200.
    const processedRows = 1200;

    const response = await call('/ml/detect', { dataset: { id: 'valve' }, detector: 'pca', trainRows: 400 });
    expect(response.status, await response.clone().text()).toBe(200);
    const result = (await response.json()) as DetectResponse;
    expect(result).toMatchObject({ kind: 'multivariate', detector: 'pca', trainRows: 400, dataset: { id: 'valve', rows: processedRows, droppedRows: 0 } });
    expect(result.features).toHaveLength(8);
    expect(result.points.scores).toHaveLength(processedRows);
    expect(result.segmentCount).toBeGreaterThan(0);

    const one = (await (await call('/ml/detect', { dataset: { id: 'valve', features: ['Temperature'], limit: 600 } })).json()) as DetectResponse;
    expect(one).toMatchObject({ kind: 'univariate', features: ['Temperature'], dataset: { rows: 600 } });

    const other = await client('detect-b');
    await expectProblem(await other('/ml/detect', { dataset: { id: 'valve' } }), 404);
    const unknown = await expectProblem(await call('/ml/detect', { dataset: { id: 'valve', features: ['nope'] } }), 400);
    expect(unknown.detail).toContain('nope');
  });
});
