import { describe, expect, it } from 'vitest';
import { logger } from '../../../shared/platform/observability.js';
import { correlationIdOf, taskHandler } from '../../../shared/platform/taskHandler.js';
import { lambdaContext } from '../../fixtures/lambda.js';

describe('the correlation id of queue, event and task handlers', () => {
  it('is found in a task input, a bus event detail and an SQS message attribute', () => {
    expect(correlationIdOf({ tenant: 'a', runId: 'r', correlationId: 'task-1' })).toBe('task-1');
    expect(correlationIdOf({ 'detail-type': 'anomaly.opened', detail: { tenant: 'a', correlationId: 'event-1' } })).toBe('event-1');
    expect(correlationIdOf({ Records: [{ messageAttributes: { correlationId: { stringValue: 'sqs-1', dataType: 'String' } } }, { messageAttributes: {} }] })).toBe('sqs-1');
    expect(correlationIdOf({ Records: [{ messageAttributes: {} }] })).toBeUndefined();
    expect(correlationIdOf(undefined)).toBeUndefined();
    expect(correlationIdOf({ correlationId: 42 })).toBeUndefined();
  });

  it('is set on the logger for the whole invocation, so every log line carries it', async () => {
    let seen: unknown;
    const handler = taskHandler(async () => {
      seen = logger.getCorrelationId();
    });
    await handler({ detail: { correlationId: 'event-2' } }, lambdaContext);
    expect(seen).toBe('event-2');
  });
});
