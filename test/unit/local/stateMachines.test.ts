import { describe, expect, it } from 'vitest';
import type { LocalFunction } from '../../../local/lambdaRuntime.js';
import { localStateMachine } from '../../../local/stateMachines.js';

const fn = (name: string, body: (event: Record<string, unknown>) => unknown): LocalFunction => ({
  spec: { name, memoryMb: 128, timeoutSeconds: 5 },
  handler: async (event: never) => body(event as Record<string, unknown>),
});

describe('local state machine runner', () => {
  const functions = new Map<string, LocalFunction>([
    ['validateDataset', fn('validateDataset', (e) => ({ ...e, valid: true }))],
    ['failingStep', fn('failingStep', () => Promise.reject(Object.assign(new Error('bad rows'), { name: 'DatasetInvalid' })))],
    ['markFailed', fn('markFailed', (e) => ({ compensated: true, cause: (e as { error?: { Error?: string } }).error?.Error }))],
  ]);

  it('maps LambdaInvoke task states to functions and unwraps Payload', async () => {
    const machine = localStateMachine(
      {
        StartAt: 'Validate',
        States: {
          Validate: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            Parameters: { FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:validateDataset', 'Payload.$': '$' },
            ResultSelector: { 'result.$': '$.Payload' },
            End: true,
          },
        },
      },
      functions,
    );
    expect(await machine.run({ datasetId: 'ds-1' })).toEqual({ result: { datasetId: 'ds-1', valid: true } });
  });

  it('routes a failing task through its Catch, as a saga compensation', async () => {
    const machine = localStateMachine(
      {
        StartAt: 'Step',
        States: {
          Step: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'failingStep', 'Payload.$': '$' }, Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Compensate' }], End: true },
          Compensate: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'markFailed', 'Payload.$': '$' }, OutputPath: '$.Payload', End: true },
        },
      },
      functions,
    );
    expect(await machine.run({})).toEqual({ compensated: true, cause: 'DatasetInvalid' });
  });

  it('refuses a definition naming a function it does not have', () => {
    expect(() => localStateMachine({ StartAt: 'X', States: { X: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'nope' }, End: true } } }, functions)).toThrow(/nope/);
  });
});
