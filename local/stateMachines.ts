import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { workflows } from '../shared/catalog.js';
import { asLambdaInvokeFailure, invokeFunction, type LocalFunction } from './lambdaRuntime.js';

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

interface AslState {
  Type: string;
  Retry?: { IntervalSeconds?: number }[];
  Resource?: string;
  Parameters?: { FunctionName?: unknown };
  Branches?: { States: Record<string, AslState> }[];
  Iterator?: { States: Record<string, AslState> };
  ItemProcessor?: { States: Record<string, AslState> };
}

/** Every Task state of a definition, including those inside Parallel branches and Map iterators. */
function taskStates(states: Record<string, AslState>): [string, AslState][] {
  return Object.entries(states).flatMap(([name, state]) => [
    ...(state.Type === 'Task' ? [[name, state] as [string, AslState]] : []),
    ...(state.Branches ?? []).flatMap((branch) => taskStates(branch.States)),
    ...(state.Iterator ? taskStates(state.Iterator.States) : []),
    ...(state.ItemProcessor ? taskStates(state.ItemProcessor.States) : []),
  ]);
}

/** `arn:aws:lambda:...:function:name[:alias]` or a plain name to the function name. */
const functionNameOf = (value: unknown): string | undefined =>
  typeof value === 'string' ? (value.match(/^\$\{(\w+)\}$/)?.[1] ?? value.match(/:function:([^:]+)/)?.[1] ?? value) : undefined;

/**
 * Runs an ASL definition in process with aws-local-stepfunctions, mapping each Task state to a
 * catalog function: by `taskFunctions[stateName]` when given, else by the function named in the
 * state's `Parameters.FunctionName` (or a Lambda ARN in `Resource`), else a function named like
 * the state. Tasks use the LambdaInvoke integration's shape: the function gets the state's
 * `Payload` and its result comes back as `{ Payload }`.
 *
 * This is the seam the dataset pipeline fills: the same definition runs on Step Functions.
 */
export function localStateMachine(
  definition: StateMachineDefinition,
  functions: ReadonlyMap<string, LocalFunction>,
  options: { taskFunctions?: Record<string, string>; timeScale?: number } = {},
) {
  const states = (definition as unknown as { States: Record<string, AslState> }).States;
  const taskResourceLocalHandlers: Record<string, (input: JsonValue) => Promise<JsonValue>> = {};
  for (const [stateName, state] of taskStates(states)) {
    const name = options.taskFunctions?.[stateName] ?? functionNameOf(state.Parameters?.FunctionName) ?? functionNameOf(state.Resource?.startsWith('arn:aws:lambda') ? state.Resource : undefined) ?? stateName;
    const fn = functions.get(name);
    if (!fn) throw new Error(`Task state "${stateName}" names function "${name}", which the local cloud does not have`);
    const lambdaInvoke = state.Resource?.startsWith('arn:aws:states:::lambda:invoke') ?? false;
    taskResourceLocalHandlers[stateName] = async (input) => {
      const payload = lambdaInvoke && input && typeof input === 'object' && !Array.isArray(input) && 'Payload' in input ? input.Payload : input;
      const result = (await invokeFunction(fn, payload).catch((error: unknown) => Promise.reject(lambdaInvoke ? asLambdaInvokeFailure(error) : error))) as JsonValue;
      return lambdaInvoke ? { Payload: result ?? null, StatusCode: 200 } : (result ?? null);
    };
  }
  // Retry intervals scaled like the queues' durations (one interval per retrier: backoff is not scaled in).
  const scaledRetries: Record<string, number[]> = {};
  if (options.timeScale !== undefined && options.timeScale !== 1) {
    for (const [stateName, state] of taskStates(states)) {
      if (state.Retry) scaledRetries[stateName] = state.Retry.map((retrier) => (retrier.IntervalSeconds ?? 1) * 1000 * options.timeScale!);
    }
  }
  const machine = new StateMachine(definition, { validationOptions: { checkArn: false, checkPaths: true } });
  return {
    /** Starts an execution; resolves with its output or rejects with its ExecutionError. */
    run(input: JsonValue, retryIntervalOverrides?: Record<string, number>): Promise<JsonValue> {
      const overrides = { ...scaledRetries, ...retryIntervalOverrides };
      return machine.run(input, { overrides: { taskResourceLocalHandlers, ...(Object.keys(overrides).length > 0 ? { retryIntervalOverrides: overrides } : {}) } }).result as Promise<JsonValue>;
    },
  };
}

/** State machines handlers may start, by logical name (`STATE_MACHINE_<NAME>` holds the ARN): the catalog's workflows. */
export const knownStateMachines = Object.keys(workflows);

export const stateMachineArn = (name: string) => `arn:aws:states:us-east-1:000000000000:stateMachine:telltale-local-${name}`;

export interface LocalExecution {
  executionArn: string;
  stateMachine: string;
  name: string;
  input: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'PENDING_DEFINITION';
  output?: unknown;
  error?: string;
  startDate: Date;
}

/**
 * Step Functions in process, behind the SFN JSON protocol of the messaging endpoint: StartExecution
 * records an execution and runs it when a definition was registered for that state machine
 * (`register`); until then executions stay PENDING_DEFINITION, visible in `executions()`.
 */
export class LocalStateMachines {
  private readonly definitions = new Map<string, { definition: StateMachineDefinition; taskFunctions?: Record<string, string>; functions?: ReadonlyMap<string, LocalFunction> }>();
  private readonly runs = new Map<string, LocalExecution>();
  private functions: ReadonlyMap<string, LocalFunction> = new Map();
  private running = 0;

  constructor(private readonly options: { onFailure?: (execution: string, error: unknown) => void; timeScale?: number } = {}) {}

  attach(functions: ReadonlyMap<string, LocalFunction>): void {
    this.functions = functions;
  }

  /** Runs `definition` for executions of `name`; `functions` adds test functions to the catalog's. */
  register(name: string, definition: StateMachineDefinition, options: { taskFunctions?: Record<string, string>; functions?: ReadonlyMap<string, LocalFunction> } = {}): void {
    this.definitions.set(name, { definition, taskFunctions: options.taskFunctions, functions: options.functions });
  }

  /** The logical name of a state machine ARN, when it is one of ours. */
  nameOf(arn: string): string | undefined {
    return [...knownStateMachines, ...this.definitions.keys()].find((name) => stateMachineArn(name) === arn);
  }

  /** Starts an execution; the same name and input again is the same execution, as on AWS. */
  start(stateMachine: string, name: string | undefined, input: string): LocalExecution {
    const executionName = name ?? crypto.randomUUID();
    const executionArn = stateMachineArn(stateMachine).replace(':stateMachine:', ':execution:') + `:${executionName}`;
    const existing = this.runs.get(executionArn);
    if (existing) {
      if (existing.input === input && existing.status === 'RUNNING') return existing;
      throw Object.assign(new Error(`Execution Already Exists: '${executionArn}'`), { code: 'ExecutionAlreadyExists' });
    }
    const registered = this.definitions.get(stateMachine);
    const execution: LocalExecution = { executionArn, stateMachine, name: executionName, input, status: registered ? 'RUNNING' : 'PENDING_DEFINITION', startDate: new Date() };
    this.runs.set(executionArn, execution);
    if (registered) {
      this.running += 1;
      const functions = new Map([...this.functions, ...(registered.functions ?? [])]);
      const machine = localStateMachine(registered.definition, functions, { taskFunctions: registered.taskFunctions, timeScale: this.options.timeScale });
      setImmediate(() => {
        machine
          .run(JSON.parse(input) as JsonValue)
          .then(
            (output) => Object.assign(execution, { status: 'SUCCEEDED', output }),
            (error: unknown) => {
              Object.assign(execution, { status: 'FAILED', error: error instanceof Error ? error.message : String(error) });
              this.options.onFailure?.(executionName, error);
            },
          )
          .finally(() => (this.running -= 1));
      });
    }
    return execution;
  }

  executions(stateMachine?: string): LocalExecution[] {
    return [...this.runs.values()].filter((e) => stateMachine === undefined || e.stateMachine === stateMachine);
  }

  execution(arn: string): LocalExecution | undefined {
    return this.runs.get(arn);
  }

  idle(): boolean {
    return this.running === 0;
  }
}
