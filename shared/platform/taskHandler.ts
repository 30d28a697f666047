import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, metrics, tracer } from './observability.js';

type Carrier = {
  correlationId?: unknown;
  detail?: { correlationId?: unknown };
  Records?: { messageAttributes?: { correlationId?: { stringValue?: string } } }[];
};

/**
 * The correlation id an event carries: a state machine task's input, a bus event's detail, or the
 * message attribute of an SQS batch's first record (a batch may mix requests; the scorer logs each).
 */
export function correlationIdOf(event: unknown): string | undefined {
  const e = (event ?? {}) as Carrier;
  const id = e.correlationId ?? e.detail?.correlationId ?? e.Records?.[0]?.messageAttributes?.correlationId?.stringValue;
  return typeof id === 'string' ? id : undefined;
}

/**
 * The middy stack of functions that are not API routes (pipeline steps, event and queue
 * consumers): tracer, logger, metrics. Errors propagate, so Step Functions, EventBridge and SQS
 * see the failure and apply their Catch, retry and dead-letter rules.
 */
export function taskHandler<E, R>(implementation: (event: E, context: Context) => Promise<R>) {
  const handler = middy<E, R>(implementation);
  if (tracer) handler.use(captureLambdaHandler(tracer));
  return handler
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use({
      // After injectLambdaContext (which resets the keys): every log line of the invocation carries the id.
      before: (request) => {
        const id = correlationIdOf(request.event);
        if (id) logger.setCorrelationId(id);
      },
    })
    .use({
      // One count per outcome: the success and failure rates of each step, per service.
      // (Block bodies: a value returned by a middy hook would replace the response.)
      after: () => {
        metrics.addMetric('InvocationsSucceeded', MetricUnit.Count, 1);
      },
      onError: () => {
        metrics.addMetric('InvocationsFailed', MetricUnit.Count, 1);
      },
    });
}
