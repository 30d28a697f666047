/**
 * A saga as an Amazon States Language definition: forward steps run in order; when one fails,
 * the compensations of that step and of every step before it run in reverse, then a final
 * failure handler records why, and the execution fails. The same definition runs on
 * Step Functions (function ARNs substituted by the CDK) and in the local cloud
 * (aws-local-stepfunctions, task states mapped to the catalog functions by name).
 */
export interface SagaStep {
  /** State name, also the step's id in `$.steps` and in the failure record. */
  name: string;
  /** Catalog name of the function that does the step. */
  functionName: string;
  /** Catalog name of the function that undoes the step; it gets `{ step, input }` and must be idempotent. */
  compensationFunctionName?: string;
}

export interface SagaDefinition {
  comment: string;
  steps: readonly SagaStep[];
  /** Catalog name of the function that records the failure (status, event); gets the state with `failedStep` and `error`. */
  failureFunctionName: string;
}

type State = Record<string, unknown>;

/** Errors of the Lambda service itself, worth a retry; errors thrown by our code are not. */
const lambdaRetry = {
  ErrorEquals: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'],
  IntervalSeconds: 2,
  MaxAttempts: 4,
  BackoffRate: 2,
};

/** A dependency that was throttled or down (our DependencyError, a 503): worth a few patient retries before the saga gives up. */
const dependencyRetry = {
  ErrorEquals: ['DependencyError'],
  IntervalSeconds: 5,
  MaxAttempts: 3,
  BackoffRate: 3,
};

/** `${name}` placeholders that the CDK fills with function ARNs (definitionSubstitutions). */
export const functionPlaceholder = (functionName: string) => `\${${functionName}}`;

const invoke = (functionName: string, payload: Record<string, unknown> | string): State => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: { FunctionName: functionPlaceholder(functionName), ...(typeof payload === 'string' ? { 'Payload.$': payload } : { Payload: payload }) },
});

export function sagaDefinition(saga: SagaDefinition): { Comment: string; StartAt: string; States: Record<string, State> } {
  const states: Record<string, State> = {};
  const undoName = (step: SagaStep) => `Undo ${step.name}`;
  const steps = saga.steps;

  steps.forEach((step, i) => {
    // Compensation chain entry point for a failure at step i: the first earlier-or-same step that has a compensation.
    const firstUndo = steps.slice(0, i + 1).reverse().find((s) => s.compensationFunctionName);
    states[step.name] = {
      ...invoke(step.functionName, '$'),
      ResultSelector: { 'output.$': '$.Payload' },
      ResultPath: `$.steps.${step.name}`,
      Retry: [lambdaRetry, dependencyRetry],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: `${step.name} failed` }],
      Next: i + 1 < steps.length ? steps[i + 1].name : 'Succeeded',
    };
    states[`${step.name} failed`] = {
      Type: 'Pass',
      Result: step.name,
      ResultPath: '$.failedStep',
      Next: firstUndo ? undoName(firstUndo) : 'Record failure',
    };
    if (step.compensationFunctionName) {
      const previous = steps.slice(0, i).reverse().find((s) => s.compensationFunctionName);
      states[undoName(step)] = {
        ...invoke(step.compensationFunctionName, { step: step.name, 'input.$': '$' }),
        ResultPath: null,
        Retry: [lambdaRetry, { ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 2 }],
        // A compensation that still fails must not stop the others: note it and go on.
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: `$.compensationErrors.${step.name}`, Next: previous ? undoName(previous) : 'Record failure' }],
        Next: previous ? undoName(previous) : 'Record failure',
      };
    }
  });

  states['Record failure'] = {
    ...invoke(saga.failureFunctionName, '$'),
    ResultPath: null,
    Retry: [lambdaRetry, { ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 }],
    Next: 'Failed',
  };
  states.Failed = { Type: 'Fail', Error: 'SagaFailed', Cause: 'A step failed; its compensations ran. See the failure record.' };
  states.Succeeded = { Type: 'Succeed' };
  return { Comment: saga.comment, StartAt: steps[0].name, States: states };
}

/** The catalog functions a saga invokes, for the CDK's substitutions and grants and the local runner. */
export function sagaFunctionNames(saga: SagaDefinition): string[] {
  return [...new Set([...saga.steps.flatMap((s) => [s.functionName, s.compensationFunctionName ?? []].flat()), saga.failureFunctionName])];
}
