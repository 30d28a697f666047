import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { parseOrThrow } from '../../http/validation.js';
import { logger } from '../../platform/observability.js';
import { correlationIdOf } from '../../platform/taskHandler.js';

/**
 * A training pipeline task (LambdaInvoke payload in, result out). The input is checked with its
 * schema; an error thrown here fails the step, and the saga compensates and records the cause.
 */
export function stepHandler<S extends z.ZodType, R>(step: string, schema: S, run: (input: z.infer<S>) => Promise<R>) {
  const base = async (event: unknown, _context: Context): Promise<R> => {
    const input = parseOrThrow('input', schema, event);
    const ids = input as { tenant?: string; modelId?: string; jobId?: string; input?: { tenant?: string; modelId?: string; jobId?: string } };
    const where = ids.input ?? ids;
    logger.appendKeys({ step, tenant: where.tenant, modelId: where.modelId, jobId: where.jobId });
    const correlationId = correlationIdOf(where);
    if (correlationId) logger.setCorrelationId(correlationId);
    return run(input);
  };
  return middy<unknown, R>(base).use(injectLambdaContext(logger, { resetKeys: true }));
}
