import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { invokeFunction, type LambdaHandler } from '../../local/lambdaRuntime.js';
import { dynamoDeploymentRepository } from '../../shared/aws/deploymentRepository.js';
import { synthesizeBundles } from '../stacks/synthesizedBundles.js';
import { useLocalCloud } from './localCloudFixture.js';

/**
 * What ships is what is tested: the local cloud runs every function from the bundle `cdk synth`
 * builds (minified, the AWS SDK inside, as deployed) with the environment its catalog entry binds.
 * Synthesized while the file is collected; bundles of unchanged sources are reused from cdk.out.
 */
const bundles = new Map(synthesizeBundles().map((fn) => [fn.name, fn.bundle]));
const local = useLocalCloud({ bundles });
/** Each function's first call loads its whole bundle (the SDK included), as a cold start does: slower than the TypeScript entries. */
const coldStarts = 60_000;
const testTimeout = 90_000;
const skab = readFileSync(new URL('../fixtures/data/skab-valve1-0.csv', import.meta.url), 'utf8');

/** Counts a function's invocations; `after` runs when each ends. */
function watch(name: string, after: () => void = () => undefined) {
  const fn = local.cloud.functions.get(name)!;
  const handler = fn.handler;
  const watched = { calls: 0 };
  fn.handler = (async (event, context) => {
    watched.calls += 1;
    try {
      return await handler(event, context);
    } finally {
      after();
    }
  }) as LambdaHandler;
  return watched;
}

describe('the synthesized bundles on the local cloud', () => {
  it('take an upload to READY through the state machine', async () => {
    const call = await local.client('bundle-a');
    const created = await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'pump', name: 'pump', content: skab }) });
    expect(created.status, await created.clone().text()).toBe(201);
    expect(await local.settled(call, '/datasets/pump', coldStarts)).toMatchObject({ status: 'READY', rows: { raw: 1147 } });
  }, testTimeout);

  it('retry a step whose dependency was down (DependencyError) instead of compensating it', async () => {
    // EventBridge refuses every data.processed event during Publish's first attempt (the SDK's own retries included).
    let eventBridgeDown = true;
    let refused = 0;
    const publish = watch('publishDatasetStep', () => (eventBridgeDown = false));
    const undo = watch('undoDatasetStep');
    const bus = local.cloud.bus;
    const put = bus.put.bind(bus);
    bus.put = (entry) => {
      if (eventBridgeDown && entry.detailType === 'data.processed') {
        refused += 1;
        throw new Error('EventBridge is unavailable');
      }
      return put(entry);
    };

    const call = await local.client('bundle-b');
    await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'pump', name: 'pump', content: skab }) });
    const dataset = await local.settled(call, '/datasets/pump', coldStarts);

    expect({ status: dataset.status, failure: dataset.failure }).toEqual({ status: 'READY', failure: undefined });
    expect(refused).toBeGreaterThan(0);
    expect({ publishAttempts: publish.calls, compensations: undo.calls }).toEqual({ publishAttempts: 2, compensations: 0 });
  }, testTimeout);

  it('record a training failure with its user-facing cause', async () => {
    const call = await local.client('bundle-c');
    await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'pump', name: 'pump', content: skab }) });
    expect((await local.settled(call, '/datasets/pump', coldStarts)).status).toBe('READY');

    const started = await call('/ml/train', { method: 'POST', body: JSON.stringify({ modelId: 'too-many-rows', datasetId: 'pump', detector: 'pca', trainRows: 1_000_000 }) });
    expect(started.status, await started.clone().text()).toBe(202);
    const model = await local.settled(call, '/ml/models/too-many-rows', coldStarts);
    expect(model).toMatchObject({ status: 'FAILED', failure: { cause: expect.stringMatching(/^trainRows is 1000000 but the dataset has \d+ usable rows/) } });
  }, testTimeout);

  it('fire an alert rule: SNS email and a signed webhook, from the bundled evaluator and deliverer (SNS and SSM clients inside)', async () => {
    const call = await local.client('bundle-d');
    const created = await call('/monitoring/alerts', {
      method: 'POST',
      body: JSON.stringify({
        name: 'bundled',
        condition: { kind: 'pipelineFailed' },
        targets: [{ kind: 'webhook', url: `${local.cloud.webhookReceiver}/bundled` }, { kind: 'email', address: 'bundle@example.com' }],
      }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    local.cloud.bus.put({ source: 'telltale', detailType: 'pipeline.failed', detail: { tenant: 'bundle-d', datasetId: 'pump', runId: 'run-1', step: 'validate', cause: 'bad rows' } });
    await local.cloud.drain(coldStarts);
    const sent = local.cloud.outbox.entries();
    expect(sent.filter((e) => e.to === 'POST /bundled').every((e) => e.signatureValid)).toBe(true);
    expect(sent.some((e) => e.to === 'POST /bundled')).toBe(true);
    expect(sent.some((e) => e.channel === 'email' && e.to === 'bundle@example.com' && e.body.includes('the dataset pipeline of pump failed at validate'))).toBe(true);
  }, testTimeout);

  it('run a tick of the drift check: every tenant\'s deployments (a Scan of the registry), each version\'s manifest looked up in the models bucket', async () => {
    const since = new Date().toISOString();
    const deployments = dynamoDeploymentRepository(local.cloud.names.table('registry'));
    await deployments.save('bundle-e', { group: 'line-1', champion: { modelId: 'never-trained', version: 1, since }, history: [], revision: 1, updatedAt: since });
    const result = (await invokeFunction(local.cloud.functions.get('checkModelDrift')!, { time: since })) as { outcomes: Record<string, number> };
    expect(result.outcomes).toEqual({ skipped: 1 });
  }, testTimeout);
});
