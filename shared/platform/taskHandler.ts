import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, metrics, tracer } from './observability.js';

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
