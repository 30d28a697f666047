import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { WorkflowStarter } from '../platform/workflows.js';
import { stepFunctions } from './stepFunctionsClient.js';
import { translateAwsError } from './errors.js';

/** Starts Step Functions executions by name; ExecutionAlreadyExists means this run already started. */
export function stepFunctionsStarter(stateMachineArn: string): WorkflowStarter {
  return {
    async start(name, input) {
      try {
        await stepFunctions().send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
        return 'started';
      } catch (error) {
        if ((error as { name?: string }).name === 'ExecutionAlreadyExists') return 'duplicate';
        throw translateAwsError('Step Functions', error);
      }
    },
  };
}
