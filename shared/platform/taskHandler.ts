import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
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
  return handler.use(injectLambdaContext(logger, { resetKeys: true })).use(logMetrics(metrics, { captureColdStartMetric: true }));
}
