import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { TrainingStarter } from '../ml/registry/modelRepository.js';
import { trainingStateMachineName } from '../ml/registry/trainingPipeline.js';
import { boundName } from '../platform/config.js';
import { stepFunctions } from './clients.js';
import { translateAwsError } from './errors.js';

/**
 * Starts the training state machine. Execution names are unique per state machine for 90 days:
 * a retry with the same name and input is answered with the running execution, and one that
 * already closed answers ExecutionAlreadyExists; either way the run exists once.
 */
export function stepFunctionsTrainingStarter(stateMachineArn = boundName('STATE_MACHINE', trainingStateMachineName)): TrainingStarter {
  return {
    async start(name, input) {
      try {
        await stepFunctions().send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
      } catch (error) {
        if ((error as { name?: string }).name === 'ExecutionAlreadyExists') return;
        throw translateAwsError('Step Functions', error);
      }
    },
  };
}
