import { describe, expect, it } from 'vitest';
import { causeOf } from '../../../../shared/data/pipeline/stages.js';

/** Step Functions' `{ Error, Cause }` of a Lambda task that threw `errorType` with `errorMessage`. */
const lambdaError = (errorType: string, errorMessage: string) => ({ Error: errorType, Cause: JSON.stringify({ errorType, errorMessage, trace: [`${errorType}: ${errorMessage}`, '    at handler (/var/task/index.mjs:1:2)'] }) });

describe('the cause a failed dataset run shows', () => {
  it('is the message of our typed data errors, which a person can act on', () => {
    const cause = causeOf('Validate', lambdaError('DataValidationError', 'The header has a single column: the delimiter is not a comma.'));
    expect(cause).toBe('The header has a single column: the delimiter is not a comma.');
  });

  it('names any other error without its message: AWS errors carry the account, role and bucket', () => {
    const denied = 'User: arn:aws:sts::123456789012:assumed-role/Telltale-dev-Api-ValidateRole/fn is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::telltale-dev-datasets/x"';
    const cause = causeOf('Validate', lambdaError('AccessDenied', denied));
    expect(cause).toBe('An internal error (AccessDenied) stopped the Validate step; re-run it (POST /datasets/{id}/runs), or report the run id.');
    for (const secret of ['123456789012', 'arn:aws', 'telltale-dev-datasets', '/var/task']) expect(cause).not.toContain(secret);
  });

  it('does not quote a Cause that is not a Lambda error document, nor a typed error name with a foreign message', () => {
    expect(causeOf('Plan', { Error: 'States.Runtime', Cause: 'An error occurred while executing the state Plan at arn:aws:states:...' })).not.toContain('arn:aws');
    expect(causeOf('Plan', { Error: 'TypeError', Cause: JSON.stringify({ errorType: 'TypeError', errorMessage: 'x is undefined at /var/task/index.mjs' }) })).not.toContain('/var/task');
  });

  it('says when a step ran out of time, and where a chunk failed', () => {
    expect(causeOf('Preprocess', { Error: 'States.Timeout' })).toMatch(/^The Preprocess step ran out of time/);
    expect(causeOf('Split', { Error: 'States.ExceedToleratedFailureThreshold' })).toMatch(/chunk/);
  });
});
