import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';

/** Powertools singletons, created once per container. Service name and level come from POWERTOOLS_* env vars. */
const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'telltale';
export const logger = new Logger({ serviceName });
export const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Telltale', serviceName });

/**
 * The tracer, only where tracing is on (in Lambda, unless POWERTOOLS_TRACE_ENABLED=false).
 * Loading it pulls in the X-Ray SDK, whose async hooks tax every promise; the local cloud and the
 * tests run without it.
 */
export const tracer: Tracer | undefined =
  process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined && process.env.POWERTOOLS_TRACE_ENABLED !== 'false'
    ? new (await import('@aws-lambda-powertools/tracer')).Tracer({ serviceName })
    : undefined;

/** Wraps an AWS SDK client for X-Ray when tracing is on. */
export const traced = <T>(client: T): T => (tracer ? tracer.captureAWSv3Client(client) : client);
