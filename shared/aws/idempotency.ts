import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { IdempotencyAlreadyInProgressError, IdempotencyPersistenceLayerError, IdempotencyValidationError } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { JSONValue } from '@aws-lambda-powertools/commons/types';
import type { Context } from 'aws-lambda';
import { boundName } from '../platform/config.js';
import { ConflictError, UnprocessableError, ValidationError } from '../platform/errors.js';
import { tables } from '../platform/resources.js';
import { awsConfig, endpoint, once, traced } from './clients.js';
import { translateAwsError } from './errors.js';

const keyPattern = /^[\x21-\x7e]{1,128}$/;

const persistence = once(
  () =>
    new DynamoDBPersistenceLayer({
      tableName: boundName('TABLE', tables.idempotency.name),
      awsSdkV3Client: traced(new DynamoDBClient({ region: awsConfig().AWS_REGION, endpoint: endpoint(awsConfig().AWS_ENDPOINT_URL_DYNAMODB) })),
    }),
);

/**
 * Wraps `operation` with Powertools idempotency on the idempotency table: a call with an
 * Idempotency-Key seen within the hour (for the same tenant) answers what the first call answered
 * and runs nothing; the same key with another payload is a 422; a first call still running is a
 * 409. Without a key the operation simply runs.
 */
export function idempotentByKey<P, C, R extends JSONValue>(operation: (payload: P, context: C) => Promise<R>, expiresAfterSeconds = 3600) {
  let config: IdempotencyConfig | undefined;
  let wrapped: ((call: { id: string; payload: P; context: C }) => Promise<R>) | undefined;
  /** `payload` is what a retry must repeat; `context` (e.g. the correlation id) may differ between tries. */
  return async (call: { tenant: string; key: string | undefined; payload: P; context: C; lambdaContext?: Context }): Promise<R> => {
    if (call.key === undefined) return operation(call.payload, call.context);
    if (!keyPattern.test(call.key)) throw new ValidationError('Idempotency-Key must be 1 to 128 printable ASCII characters.', [{ pointer: 'header.idempotency-key', message: 'Malformed' }]);
    config ??= new IdempotencyConfig({ eventKeyJmesPath: 'id', payloadValidationJmesPath: 'payload', expiresAfterSeconds });
    // The in-progress record then expires with the invocation, so a timed-out first try does not block retries.
    if (call.lambdaContext) config.registerLambdaContext(call.lambdaContext);
    wrapped ??= makeIdempotent(async ({ payload, context }: { id: string; payload: P; context: C }) => operation(payload, context), {
      persistenceStore: persistence(),
      config,
    });
    try {
      return await wrapped({ id: `${call.tenant}#${call.key}`, payload: call.payload, context: call.context });
    } catch (error) {
      if (error instanceof IdempotencyValidationError) throw new UnprocessableError('This Idempotency-Key was used with another body; use a new key for a new request.');
      if (error instanceof IdempotencyAlreadyInProgressError) throw new ConflictError('A request with this Idempotency-Key is still being processed; retry in a moment.');
      // The operation's own errors come through as thrown (Powertools removes the in-progress record first).
      if (error instanceof IdempotencyPersistenceLayerError) throw translateAwsError('DynamoDB', error.cause ?? error);
      throw error;
    }
  };
}
