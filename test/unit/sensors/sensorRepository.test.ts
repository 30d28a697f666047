import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../../shared/aws/cursor.js';
import { dynamoSensorRepository } from '../../../shared/aws/sensorRepository.js';
import { ConflictError, DependencyError, ValidationError } from '../../../shared/platform/errors.js';
import { getSensor, registerSensor } from '../../../shared/sensors/registry.js';

const dynamo = mockClient(DynamoDBDocumentClient);
const repository = dynamoSensorRepository('sensors-table');
const pump = { id: 'pump-1', name: 'Pump 1 vibration', type: 'vibration' as const, unit: 'mm/s', group: 'line-a' };

describe('the sensor registry on DynamoDB', () => {
  afterEach(() => dynamo.reset());

  it('writes the sensor under its tenant, guarded against overwrites', async () => {
    dynamo.on(PutCommand).resolves({});

    await registerSensor(repository, 'acme', pump, new Date('2026-01-01T00:00:00Z'));

    const input = dynamo.commandCalls(PutCommand)[0].args[0].input;
    expect(input.Item).toMatchObject({ pk: 'T#acme', sk: 'SENSOR#pump-1', gsi1pk: 'T#acme#GROUP#line-a', gsi2pk: 'T#acme#TYPE#vibration' });
    expect(input.ConditionExpression).toBe('attribute_not_exists(pk)');
  });

  it('turns a failed condition into a 409 and throttling into a retryable 503', async () => {
    dynamo.on(PutCommand).rejectsOnce(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }));
    await expect(registerSensor(repository, 'acme', pump)).rejects.toBeInstanceOf(ConflictError);

    dynamo.reset();
    dynamo.on(PutCommand).rejects(Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' }));
    await expect(registerSensor(repository, 'acme', pump)).rejects.toBeInstanceOf(DependencyError);
  });

  it('answers 404 for an id the tenant does not have', async () => {
    dynamo.resolves({});
    await expect(getSensor(repository, 'acme', 'nope')).rejects.toThrow('No sensor "nope"');
  });

  it('pages with an opaque cursor and refuses a cursor forged for another tenant', async () => {
    dynamo.on(QueryCommand).resolves({ Items: [{ sensor: pump }], LastEvaluatedKey: { pk: 'T#acme', sk: 'SENSOR#pump-1' } });

    const first = await repository.list('acme', {}, { limit: 1 });
    await repository.list('acme', {}, { limit: 1, cursor: first.nextCursor });
    const forged = encodeCursor({ pk: 'T#other', sk: 'SENSOR#x' });

    expect(first.items).toEqual([pump]);
    expect(dynamo.commandCalls(QueryCommand)[1].args[0].input.ExclusiveStartKey).toEqual({ pk: 'T#acme', sk: 'SENSOR#pump-1' });
    await expect(repository.list('acme', {}, { limit: 1, cursor: forged })).rejects.toBeInstanceOf(ValidationError);
    await expect(repository.list('acme', {}, { limit: 1, cursor: 'not-base64-json' })).rejects.toBeInstanceOf(ValidationError);
    // A prefix of another tenant's id must not pass for the tenant itself.
    await expect(repository.list('acme', {}, { limit: 1, cursor: encodeCursor({ pk: 'T#acmeco', sk: 'SENSOR#x' }) })).rejects.toBeInstanceOf(ValidationError);
  });

  it('queries the group index, and filters by type within a group', async () => {
    dynamo.on(QueryCommand).resolves({ Items: [] });

    await repository.list('acme', { group: 'line-a', type: 'pressure' }, { limit: 10 });

    const input = dynamo.commandCalls(QueryCommand)[0].args[0].input;
    expect(input.IndexName).toBe('gsi1');
    expect(input.ExpressionAttributeValues).toEqual({ ':g': 'T#acme#GROUP#line-a', ':t': 'pressure' });
  });
});
