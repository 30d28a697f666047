import { describe, expect, it } from 'vitest';
import type { LocalFunction } from '../../../local/lambdaRuntime.js';
import type { Context } from 'aws-lambda';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { localStateMachine } from '../../../local/stateMachines.js';
import { sagaDefinition, type SagaDefinition } from '../../../shared/platform/saga.js';

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

  it('scales Retry intervals by timeScale, as the queues and the bus scale theirs', async () => {
    let calls = 0;
    const flaky = fn('flakyStep', () => (++calls < 3 ? Promise.reject(Object.assign(new Error('throttled'), { name: 'DependencyError' })) : { ok: true }));
    const definition: StateMachineDefinition = {
      StartAt: 'Step',
      States: {
        Step: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: 'flakyStep', 'Payload.$': '$' },
          Retry: [{ ErrorEquals: ['DependencyError'], IntervalSeconds: 5, MaxAttempts: 3, BackoffRate: 3 }],
          OutputPath: '$.Payload',
          End: true,
        },
      },
    };
    const started = Date.now();
    // 5 s and 15 s of waits at scale 1; 5 ms each at 0.001.
    expect(await localStateMachine(definition, new Map([['flakyStep', flaky]]), { timeScale: 0.001 }).run({})).toEqual({ ok: true });
    expect(calls).toBe(3);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses a definition naming a function it does not have', () => {
    expect(() => localStateMachine({ StartAt: 'X', States: { X: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'nope' }, End: true } } }, functions)).toThrow(/nope/);
  });
});

describe('a saga with a conditional Distributed Map step, run locally', () => {
  const seen: number[] = [];
  const functions = new Map<string, LocalFunction>([
    ['plan', fn('plan', (e) => ({ chunked: e.chunked === true, chunks: [{ index: 0 }, { index: 1 }, { index: 2 }] }))],
    ['chunk', fn('chunk', (e) => {
      const { chunk, runId } = e as { chunk: { index: number }; runId: string };
      if (runId === 'fail' && chunk.index === 1) throw Object.assign(new Error('chunk 1 is broken'), { name: 'DataValidationError' });
      seen.push(chunk.index);
      return { index: chunk.index };
    })],
    ['merge', fn('merge', () => ({ merged: seen.length }))],
    ['undo', fn('undo', (e) => ({ undone: (e as { step: string }).step }))],
    ['fail', fn('fail', (e) => ({ failedStep: (e as { failedStep: string }).failedStep }))],
  ]);
  const saga: SagaDefinition = {
    comment: 'map test',
    steps: [
      { name: 'Plan', functionName: 'plan' },
      {
        name: 'Split',
        functionName: 'chunk',
        compensationFunctionName: 'undo',
        onlyWhen: '$.steps.Plan.output.chunked',
        map: { itemsPath: '$.steps.Plan.output.chunks', itemSelector: { 'runId.$': '$.runId', 'chunk.$': '$$.Map.Item.Value' }, maxConcurrency: 2 },
      },
      { name: 'Merge', functionName: 'merge' },
    ],
    failureFunctionName: 'fail',
  };
  const definition = sagaDefinition(saga) as unknown as StateMachineDefinition;

  it('runs the map once per item when the condition holds, and skips it when not', async () => {
    seen.length = 0;
    const out = (await localStateMachine(definition, functions).run({ runId: 'ok', chunked: true })) as { steps: Record<string, { output: unknown }> };
    expect(seen.sort()).toEqual([0, 1, 2]);
    expect(out.steps.Merge.output).toEqual({ merged: 3 });
    expect(out.steps.Split).toBeUndefined();
    seen.length = 0;
    const skipped = (await localStateMachine(definition, functions).run({ runId: 'ok', chunked: false })) as { steps: Record<string, { output: unknown }> };
    expect(seen).toEqual([]);
    expect(skipped.steps.Merge.output).toEqual({ merged: 0 });
  });

  it('a failing item fails the map step, which runs its compensation and records the failure', async () => {
    const calls: string[] = [];
    const spy = new Map([...functions].map(([name, f]) => [name, { ...f, handler: async (event: never, context: Context) => (calls.push(name), f.handler(event, context)) }]));
    await expect(localStateMachine(definition, spy).run({ runId: 'fail', chunked: true })).rejects.toThrow();
    expect(calls).toContain('undo');
    expect(calls.at(-1)).toBe('fail');
    expect(calls).not.toContain('merge');
  });

  it('declares the map as DISTRIBUTED with the concurrency asked for and the Choice before it', () => {
    const states = definition.States as unknown as Record<string, Record<string, unknown>>;
    expect(states['Split?']).toMatchObject({ Type: 'Choice', Default: 'Merge' });
    expect(states.Split).toMatchObject({ Type: 'Map', MaxConcurrency: 2, ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } }, ResultPath: null });
    expect(states.Plan.Next).toBe('Split?');
  });
});
