/**
 * What a person is told when a workflow step failed. Step Functions hands the failure over as
 * `{ Error, Cause }`, the Cause holding the Lambda error (`errorType`, `errorMessage`, stack).
 * Only our typed errors carry messages written for users; anything else (an AccessDenied naming
 * the account, role and bucket, a TypeError with a path under /var/task) stays in the log.
 */
export interface TaskFailure {
  Error?: string;
  Cause?: string;
}

/** Names of our typed errors (shared/platform/errors.ts and the contexts' own), whose messages are meant for users. */
const userFacingErrors = new Set([
  'ValidationError',
  'NotFoundError',
  'ConflictError',
  'UnprocessableError',
  'DependencyError',
  'DataValidationError',
  'InvalidInputError',
  'OnnxModelLoadError',
  'OnnxSignatureMismatchError',
  'OnnxModelRefusedError',
]);

const maxCauseChars = 1000;

/** The error's own message when it is one of our typed errors, else undefined (to be summarised). */
export function userFacingMessage(error: TaskFailure | undefined): string | undefined {
  try {
    const cause = JSON.parse(error?.Cause ?? '{}') as { errorMessage?: unknown; errorType?: unknown };
    if (typeof cause.errorMessage === 'string' && userFacingErrors.has(String(cause.errorType ?? error?.Error))) return cause.errorMessage.slice(0, maxCauseChars);
  } catch {
    // Cause is not JSON: not one of our errors.
  }
  return undefined;
}

/** Whether Step Functions or Lambda stopped the step for running out of time. */
export const timedOut = (error: TaskFailure | undefined) => ['States.Timeout', 'Sandbox.Timedout'].includes(error?.Error ?? '');

/**
 * The failure as the log keeps it: the error's name, type and message, with no stack trace
 * (the failing function's own log has it), for whoever investigates.
 */
export function failureDetail(error: TaskFailure | undefined): { error: string; errorType?: string; errorMessage?: string } {
  try {
    const cause = JSON.parse(error?.Cause ?? '{}') as { errorMessage?: unknown; errorType?: unknown };
    return {
      error: error?.Error ?? 'Unknown',
      ...(typeof cause.errorType === 'string' ? { errorType: cause.errorType } : {}),
      ...(typeof cause.errorMessage === 'string' ? { errorMessage: cause.errorMessage } : {}),
    };
  } catch {
    return { error: error?.Error ?? 'Unknown', errorMessage: error?.Cause };
  }
}
