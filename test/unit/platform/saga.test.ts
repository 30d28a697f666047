import { describe, expect, it } from 'vitest';
import { workflows } from '../../../shared/catalog.js';
import { sagaDefinition, sagaFunctionNames, type SagaDefinition } from '../../../shared/platform/saga.js';

type State = { Type: string; Next?: string; Catch?: { ErrorEquals: string[]; Next: string; ResultPath: string }[]; Parameters?: { FunctionName?: string } };

/** Follows Next from a state to the end, returning the state names visited. */
function pathFrom(states: Record<string, State>, start: string): string[] {
  const visited: string[] = [];
  for (let name: string | undefined = start; name; name = states[name].Next) visited.push(name);
  return visited;
}

describe('the saga definition', () => {
  const saga: SagaDefinition = {
    comment: 'test',
    steps: [
      { name: 'A', functionName: 'doA', compensationFunctionName: 'undoA' },
      { name: 'B', functionName: 'doB' },
      { name: 'C', functionName: 'doC', compensationFunctionName: 'undoC' },
    ],
    failureFunctionName: 'recordFailure',
  };
  const states = sagaDefinition(saga).States as Record<string, State>;

  it('runs the steps in order to success', () => {
    expect(pathFrom(states, 'A')).toEqual(['A', 'B', 'C', 'Succeeded']);
  });

  it('on a failure at each step runs the compensations of that step and the earlier ones, in reverse, then records the failure and fails', () => {
    const afterFailure = (step: string) => pathFrom(states, states[step].Catch![0].Next);
    expect(afterFailure('A')).toEqual(['A failed', 'Undo A', 'Record failure', 'Failed']);
    expect(afterFailure('B')).toEqual(['B failed', 'Undo A', 'Record failure', 'Failed']);
    expect(afterFailure('C')).toEqual(['C failed', 'Undo C', 'Undo A', 'Record failure', 'Failed']);
  });

  it('catches every error of a step, and keeps compensating when a compensation itself fails', () => {
    for (const step of saga.steps) expect(states[step.name].Catch![0]).toMatchObject({ ErrorEquals: ['States.ALL'], ResultPath: '$.error' });
    expect(states['Undo C'].Catch![0].Next).toBe('Undo A');
    expect(states['Undo A'].Catch![0].Next).toBe('Record failure');
  });

  it('retries a step on Lambda service errors and on a dependency outage, never on other errors of ours', () => {
    const retried = (states.A as unknown as { Retry: { ErrorEquals: string[] }[] }).Retry.flatMap((r) => r.ErrorEquals);
    expect(retried).toContain('Lambda.TooManyRequestsException');
    expect(retried).toContain('DependencyError');
    expect(retried).not.toContain('States.ALL');
  });

  it('names functions by placeholder for the CDK substitutions, and lists each once', () => {
    expect(states.A.Parameters?.FunctionName).toBe('${doA}');
    expect(sagaFunctionNames(saga).sort()).toEqual(['doA', 'doB', 'doC', 'recordFailure', 'undoA', 'undoC']);
  });

  it('every workflow of the catalog builds with its steps caught and a failure record', () => {
    for (const workflow of Object.values(workflows)) {
      const built = sagaDefinition(workflow).States as Record<string, State>;
      for (const step of workflow.steps) expect(built[step.name].Catch?.[0].ErrorEquals).toEqual(['States.ALL']);
      expect(built['Record failure'].Next).toBe('Failed');
    }
  });
});
