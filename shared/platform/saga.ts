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
  /** JSONPath of a boolean in the state: the step runs only when it is true, else the saga goes on to the next step. */
  onlyWhen?: string;
  /**
   * Makes the step a Distributed Map: `functionName` runs once per item of the array at
   * `itemsPath`, each in a child workflow execution, with the input `itemSelector` builds
   * (`$$.Map.Item.Value` is the item). The step's result is not kept (`$.steps.<name>` stays unset).
   */
  map?: { itemsPath: string; itemSelector: Record<string, unknown>; maxConcurrency: number };
}

/** Choices a deployment makes about a saga's definition. */
export interface SagaOptions {
  /** Child executions a Distributed Map runs at once, instead of the step's `maxConcurrency`. */
  mapConcurrency?: number;
}

export interface SagaDefinition {
  comment: string;
  steps: readonly SagaStep[];
  /** Catalog name of the function that records the failure (status, event); gets the state with `failedStep` and `error`. */
  failureFunctionName: string;
}

type State = Record<string, unknown>;

/**
 * Lambda refusing an invocation for lack of concurrency (a new account's quota is small, and the
 * API draws on the same pool): patient retries, over up to about 12 minutes, spread out by jitter
 * so a Distributed Map's children do not come back all at once.
 */
const throttleRetry = {
  ErrorEquals: ['Lambda.TooManyRequestsException', 'Lambda.EC2ThrottledException', 'Lambda.ENILimitReachedException'],
  IntervalSeconds: 5,
  MaxAttempts: 10,
  BackoffRate: 2,
  MaxDelaySeconds: 120,
  JitterStrategy: 'FULL',
};

/** Errors of the Lambda service itself, worth a retry; errors thrown by our code are not. */
const lambdaRetry = {
  ErrorEquals: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException'],
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

/** A step that runs once per item, as child executions of a Distributed Map, each one Lambda invocation with the usual retries. */
function distributedMap(step: SagaStep & { map: NonNullable<SagaStep['map']> }, options: SagaOptions): State {
  const item = `${step.name} item`;
  return {
    Type: 'Map',
    ItemsPath: step.map.itemsPath,
    ItemSelector: step.map.itemSelector,
    MaxConcurrency: options.mapConcurrency ?? step.map.maxConcurrency,
    ToleratedFailurePercentage: 0,
    ItemProcessor: {
      ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
      StartAt: item,
      States: { [item]: { ...invoke(step.functionName, '$'), OutputPath: '$.Payload', Retry: [throttleRetry, lambdaRetry, dependencyRetry], End: true } },
    },
    Label: step.name.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 40) || 'Map',
    ResultPath: null,
  };
}

export function sagaDefinition(saga: SagaDefinition, options: SagaOptions = {}): { Comment: string; StartAt: string; States: Record<string, State> } {
  const states: Record<string, State> = {};
  const undoName = (step: SagaStep) => `Undo ${step.name}`;
  const steps = saga.steps;
  // A conditional step is entered through a Choice that skips it when its condition is false.
  const entryOf = (i: number): string => (i >= steps.length ? 'Succeeded' : steps[i].onlyWhen ? `${steps[i].name}?` : steps[i].name);

  steps.forEach((step, i) => {
    // Compensation chain entry point for a failure at step i: the first earlier-or-same step that has a compensation.
    const firstUndo = steps.slice(0, i + 1).reverse().find((s) => s.compensationFunctionName);
    if (step.onlyWhen)
      states[`${step.name}?`] = { Type: 'Choice', Choices: [{ Variable: step.onlyWhen, BooleanEquals: true, Next: step.name }], Default: entryOf(i + 1) };
    const work = step.map
      ? distributedMap({ ...step, map: step.map }, options)
      : { ...invoke(step.functionName, '$'), ResultSelector: { 'output.$': '$.Payload' }, ResultPath: `$.steps.${step.name}`, Retry: [throttleRetry, lambdaRetry, dependencyRetry] };
    states[step.name] = {
      ...work,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: `${step.name} failed` }],
      Next: entryOf(i + 1),
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
        Retry: [throttleRetry, lambdaRetry, { ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 2 }],
        // A compensation that still fails must not stop the others: note it and go on.
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: `$.compensationErrors.${step.name}`, Next: previous ? undoName(previous) : 'Record failure' }],
        Next: previous ? undoName(previous) : 'Record failure',
      };
    }
  });

  states['Record failure'] = {
    ...invoke(saga.failureFunctionName, '$'),
    ResultPath: null,
    Retry: [throttleRetry, lambdaRetry, { ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 }],
    Next: 'Failed',
  };
  states.Failed = { Type: 'Fail', Error: 'SagaFailed', Cause: 'A step failed; its compensations ran. See the failure record.' };
  states.Succeeded = { Type: 'Succeed' };
  return { Comment: saga.comment, StartAt: entryOf(0), States: states };
}

/** The catalog functions a saga invokes, for the CDK's substitutions and grants and the local runner. */
export function sagaFunctionNames(saga: SagaDefinition): string[] {
  return [...new Set([...saga.steps.flatMap((s) => [s.functionName, s.compensationFunctionName ?? []].flat()), saga.failureFunctionName])];
}
