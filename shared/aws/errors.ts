import { ConflictError, DependencyError, TelltaleError } from '../platform/errors.js';

const transient = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'InternalServerError',
  'SlowDown',
  'TimeoutError',
]);

/**
 * Translates an AWS SDK failure into our typed errors: throttling, outages and network failures
 * become a retryable 503; a failed condition becomes 409; anything else stays a bug.
 */
export function translateAwsError(service: string, error: unknown, conflictMessage?: string): Error {
  if (error instanceof TelltaleError) return error;
  const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  if (e.name === 'ConditionalCheckFailedException' && conflictMessage) return new ConflictError(conflictMessage);
  const network = typeof e.code === 'string' && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN)$/.test(e.code);
  if (network || transient.has(e.name ?? '') || (e.$metadata?.httpStatusCode ?? 0) >= 500) {
    return new DependencyError(`${service} is unavailable; retry later.`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** One call to an AWS service with its failure translated (see translateAwsError). */
export async function callAws<T>(service: string, send: () => Promise<T>, conflictMessage?: string): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw translateAwsError(service, error, conflictMessage);
  }
}

/**
 * Like callAws, but a failure `isExpected` recognises answers `fallback`: for outcomes the caller
 * handles as answers (a missing object, a guarded write that lost), not as errors.
 */
export async function callAwsUnless<T, F>(service: string, send: () => Promise<T>, isExpected: (error: unknown) => boolean, fallback: F): Promise<T | F> {
  try {
    return await send();
  } catch (error) {
    if (isExpected(error)) return fallback;
    throw translateAwsError(service, error);
  }
}
