import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dynamoDeploymentRepository } from '../../../shared/aws/deploymentRepository.js';
import type { ModelRecord } from '../../../shared/ml/registry/model.js';
import { predictRequest } from '../../../shared/ml/registry/prediction.js';
import type { Deployment } from '../../../shared/mlops/deployment.js';
import { deployModel, getDeployment, routeToDeployment } from '../../../shared/mlops/deployments.js';
import { ConflictError, NotFoundError } from '../../../shared/platform/errors.js';
import { claimsFor, httpEvent, lambdaContext } from '../../fixtures/lambda.js';
import { memoryModels } from '../ml/registry/fakes.js';
import { memoryDeployments } from './fakes.js';

const model = (id: string, over: Partial<ModelRecord> = {}): ModelRecord => ({
  id,
  version: 1,
  status: 'READY',
  jobId: `train-${id}`,
  detector: 'pca',
  features: ['p1', 'p2'],
  lineage: { datasetId: 'plant-1', processedKey: 'datasets/acme/plant-1/processed/data.csv', columns: {}, parameters: {} },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

async function setUp() {
  const models = memoryModels();
  await models.create('acme', model('a'));
  await models.create('acme', model('b', { version: 2 }));
  await models.saveVersion('acme', model('b', { version: 1 }));
  await models.create('acme', model('busy', { status: 'TRAINING' }));
  const deployments = memoryDeployments();
  return { models, deployments, deps: { models, deployments, now: () => new Date('2026-02-01T00:00:00Z') } };
}

describe('deploying models to a sensor group', () => {
  it('promotes a READY version, pinning the current version when none is given, and reads it back', async () => {
    const { deps, deployments } = await setUp();

    const first = await deployModel(deps, 'acme', { group: 'pump-1', action: 'promote', modelId: 'b' });
    const second = await deployModel(deps, 'acme', { group: 'pump-1', action: 'promote', modelId: 'b', version: 1 });

    expect(first.champion).toMatchObject({ modelId: 'b', version: 2 });
    expect(second).toMatchObject({ champion: { modelId: 'b', version: 1 }, history: [{ modelId: 'b', version: 2 }], revision: 2 });
    expect(await getDeployment(deployments, 'acme', 'pump-1')).toEqual(second);
    await expect(getDeployment(deployments, 'other', 'pump-1')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses an unknown or another tenant\'s model with 404 and a version that is not READY with 409', async () => {
    const { deps, deployments } = await setUp();
    await expect(deployModel(deps, 'acme', { group: 'g', action: 'promote', modelId: 'nope' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(deployModel(deps, 'acme', { group: 'g', action: 'promote', modelId: 'a', version: 7 })).rejects.toBeInstanceOf(NotFoundError);
    await expect(deployModel(deps, 'other', { group: 'g', action: 'promote', modelId: 'a' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(deployModel(deps, 'acme', { group: 'g', action: 'promote', modelId: 'busy' })).rejects.toBeInstanceOf(ConflictError);
    await deployModel(deps, 'acme', { group: 'g', action: 'promote', modelId: 'a' });
    await expect(deployModel(deps, 'acme', { group: 'g', action: 'set-challenger', modelId: 'busy', trafficShare: 0.1 })).rejects.toBeInstanceOf(ConflictError);
    expect(deployments.writes).toBe(1);
  });

  it('writes nothing for a change already in place, and refuses a change made from another revision', async () => {
    const { deps, deployments } = await setUp();
    await deployModel(deps, 'acme', { group: 'g', action: 'promote', modelId: 'a' });
    await deployModel(deps, 'acme', { group: 'g', action: 'promote', modelId: 'a' });
    await deployModel(deps, 'acme', { group: 'g', action: 'clear-challenger' });
    expect(deployments.writes).toBe(1);

    await deployModel(deps, 'acme', { group: 'g', action: 'promote', modelId: 'b', revision: 1 });
    // A retried rollback with the revision it was made from cannot roll back twice.
    await deployModel(deps, 'acme', { group: 'g', action: 'rollback', revision: 2 });
    await expect(deployModel(deps, 'acme', { group: 'g', action: 'rollback', revision: 2 })).rejects.toBeInstanceOf(ConflictError);
    await expect(deployModel(deps, 'acme', { group: 'new', action: 'promote', modelId: 'a', revision: 1 })).rejects.toBeInstanceOf(ConflictError);
    expect((await getDeployment(deployments, 'acme', 'g')).champion.modelId).toBe('a');
  });

  it('of two concurrent changes from the same revision, one lands and the other gets 409: no lost update', async () => {
    const { deps } = await setUp();
    await deployModel(deps, 'acme', { group: 'g', action: 'promote', modelId: 'a' });

    const outcomes = await Promise.allSettled([
      deployModel(deps, 'acme', { group: 'g', action: 'promote', modelId: 'b' }),
      deployModel(deps, 'acme', { group: 'g', action: 'set-challenger', modelId: 'b', version: 1, trafficShare: 0.2 }),
    ]);

    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.find((o) => o.status === 'rejected');
    expect(rejected?.status === 'rejected' && rejected.reason).toBeInstanceOf(ConflictError);
  });

  it('routes a predict request to the champion or the challenger and says which, 404 for a group without deployment', async () => {
    const { deps, deployments } = await setUp();
    await deployModel(deps, 'acme', { group: 'g', action: 'promote', modelId: 'a' });
    await deployModel(deps, 'acme', { group: 'g', action: 'set-challenger', modelId: 'b', trafficShare: 0.5 });

    expect(await routeToDeployment(deployments, 'acme', 'g', undefined, () => 0.1)).toEqual({ model: { modelId: 'b', version: 2 }, deployment: { group: 'g', revision: 2, role: 'challenger' } });
    expect(await routeToDeployment(deployments, 'acme', 'g', undefined, () => 0.9)).toEqual({ model: { modelId: 'a', version: 1 }, deployment: { group: 'g', revision: 2, role: 'champion' } });
    await expect(routeToDeployment(deployments, 'other', 'g')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('a predict request names a model or a group, never both; version goes with a model, routingKey with a group', () => {
    const issues = (body: Record<string, unknown>) => predictRequest.safeParse({ rows: [[1]], ...body }).error?.issues.map((i) => i.path.join('.')) ?? [];
    expect(issues({ modelId: 'a', version: 2 })).toEqual([]);
    expect(issues({ group: 'g', routingKey: 'asset-7' })).toEqual([]);
    expect(issues({})).toEqual(['modelId']);
    expect(issues({ modelId: 'a', group: 'g' })).toEqual(['modelId']);
    expect(issues({ group: 'g', version: 1 })).toEqual(['version']);
    expect(issues({ modelId: 'a', routingKey: 'k' })).toEqual(['routingKey']);
    expect(issues({ group: 'g', routingKey: '' })).toEqual(['routingKey']);
  });
});

const dynamo = mockClient(DynamoDBDocumentClient);
const stored: Deployment = { group: 'pump-1', champion: { modelId: 'a', version: 1, since: '2026-01-01T00:00:00.000Z' }, history: [], revision: 3, updatedAt: '2026-01-01T00:00:00.000Z' };

describe('deployments on DynamoDB', () => {
  const repository = dynamoDeploymentRepository('registry-table');
  afterEach(() => dynamo.reset());

  it('keeps one item per group in the tenant\'s partition and reads it back without its keys', async () => {
    dynamo.on(GetCommand).resolves({ Item: { pk: 'T#acme', sk: 'DEPLOYMENT#pump-1', ...stored } });
    expect(await repository.get('acme', 'pump-1')).toEqual(stored);
    expect(dynamo.commandCalls(GetCommand)[0].args[0].input).toEqual({ TableName: 'registry-table', Key: { pk: 'T#acme', sk: 'DEPLOYMENT#pump-1' } });
  });

  it('writes a revision on condition that the stored one is the revision before; a failed condition is a 409', async () => {
    dynamo.on(PutCommand).resolvesOnce({}).rejects(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }));

    await repository.save('acme', { ...stored, revision: 4 });
    await expect(repository.save('acme', { ...stored, revision: 4 })).rejects.toBeInstanceOf(ConflictError);

    const input = dynamo.commandCalls(PutCommand)[0].args[0].input;
    expect(input.Item).toMatchObject({ pk: 'T#acme', sk: 'DEPLOYMENT#pump-1', revision: 4 });
    expect(input.ConditionExpression).toBe('#revision = :previous');
    expect(input.ExpressionAttributeValues).toEqual({ ':previous': 3 });
  });

  it('creates revision 1 only where there is no deployment yet', async () => {
    dynamo.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }));
    await expect(repository.save('acme', { ...stored, revision: 1 })).rejects.toBeInstanceOf(ConflictError);
    expect(dynamo.commandCalls(PutCommand)[0].args[0].input.ConditionExpression).toBe('attribute_not_exists(pk)');
  });
});

type Handler = (event: unknown, context: unknown) => Promise<APIGatewayProxyStructuredResultV2>;

describe('POST /api/v1/mlops/deploy and GET /api/v1/mlops/deployments/{group}', () => {
  let deploy: Handler;
  let read: Handler;
  beforeAll(async () => {
    Object.assign(process.env, { TABLE_REGISTRY: 'registry-table', TABLE_MODELS: 'models-table' });
    ({ handler: deploy } = (await import('../../../functions/mlops/deployModel.js')) as unknown as { handler: Handler });
    ({ handler: read } = (await import('../../../functions/mlops/getDeployment.js')) as unknown as { handler: Handler });
  });
  afterEach(() => dynamo.reset());

  const post = async (body: string, scopes = ['telltale/models'], headers: Record<string, string> = {}) => {
    const response = await deploy(httpEvent({ method: 'POST', path: '/api/v1/mlops/deploy', body, headers, claims: claimsFor('acme', ...scopes) }), lambdaContext);
    return { status: response.statusCode, body: JSON.parse(response.body ?? '{}') as Record<string, unknown> };
  };

  it('promotes through the handler: the model is checked in the tenant\'s partition, the deployment answered', async () => {
    dynamo.on(GetCommand, { TableName: 'models-table' }).resolves({ Item: { pk: 'T#acme', sk: 'MODEL#a', ...model('a') } });
    dynamo.on(GetCommand, { TableName: 'registry-table' }).resolves({});
    dynamo.on(PutCommand).resolves({});

    const { status, body } = await post(JSON.stringify({ group: 'pump-1', action: 'promote', modelId: 'a' }));

    expect(status).toBe(200);
    expect(body).toMatchObject({ group: 'pump-1', champion: { modelId: 'a', version: 1 }, history: [], revision: 1 });
    expect(dynamo.commandCalls(PutCommand)[0].args[0].input).toMatchObject({ TableName: 'registry-table', Item: { pk: 'T#acme', sk: 'DEPLOYMENT#pump-1' } });
  });

  it('answers 409 when a concurrent change won the conditional write', async () => {
    dynamo.on(GetCommand, { TableName: 'models-table' }).resolves({ Item: model('b') });
    dynamo.on(GetCommand, { TableName: 'registry-table' }).resolves({ Item: { pk: 'T#acme', sk: 'DEPLOYMENT#pump-1', ...stored } });
    dynamo.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }));

    const { status, body } = await post(JSON.stringify({ group: 'pump-1', action: 'promote', modelId: 'b' }));
    expect(status).toBe(409);
    expect(body.type).toBe('urn:telltale:problem:conflict');
  });

  it('refuses malformed, wrong-typed, out-of-bounds and oversized bodies with 400 or 413, and needs the models scope', async () => {
    expect((await post('{"group":')).status).toBe(400);
    expect((await post(JSON.stringify({ group: 'pump-1', action: 'promote' }))).status).toBe(400);
    expect((await post(JSON.stringify({ group: 'pump-1', action: 'set-challenger', modelId: 'a', trafficShare: 0.75 }))).body.errors).toEqual([expect.objectContaining({ pointer: 'body.trafficShare' })]);
    expect((await post(JSON.stringify({ group: 'pump-1', action: 'promote', modelId: 'a', version: '2' }))).status).toBe(400);
    expect((await post(JSON.stringify({ group: 'pump 1', action: 'rollback' }))).status).toBe(400);
    expect((await post(JSON.stringify({ group: 'pump-1', action: 'rollback', note: 'x'.repeat(8000) }))).status).toBe(413);
    expect((await post(JSON.stringify({ group: 'pump-1', action: 'rollback' }), ['telltale/read'])).status).toBe(403);
    const anonymous = await deploy(httpEvent({ method: 'POST', path: '/api/v1/mlops/deploy', body: '{}' }), lambdaContext);
    expect(anonymous.statusCode).toBe(401);
    expect(dynamo.calls()).toHaveLength(0);
  });

  it('reads a deployment with the read scope; 404 for a group without one', async () => {
    const get = (group: string, scopes = ['telltale/read']) =>
      read(httpEvent({ method: 'GET', path: `/api/v1/mlops/deployments/${group}`, pathParameters: { group }, claims: claimsFor('acme', ...scopes) }), lambdaContext);
    dynamo.on(GetCommand).resolvesOnce({ Item: { pk: 'T#acme', sk: 'DEPLOYMENT#pump-1', ...stored } }).resolves({});

    const found = await get('pump-1');
    expect(found.statusCode).toBe(200);
    expect(JSON.parse(found.body ?? '')).toEqual(stored);
    expect((await get('pump-2')).statusCode).toBe(404);
    expect((await get('pump-1', ['telltale/ingest'])).statusCode).toBe(403);
  });
});
