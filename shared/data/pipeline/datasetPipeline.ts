import type { SagaDefinition } from '../../platform/saga.js';

/** The dataset pipeline: a saga whose steps are catalog functions. Train, evaluate and register plug in after Profile. */
export const datasetPipeline: SagaDefinition = {
  comment: 'Telltale dataset pipeline: validate -> preprocess -> profile -> publish, compensated in reverse on failure',
  steps: [
    { name: 'Validate', functionName: 'validateDatasetStep', compensationFunctionName: 'undoDatasetStep' },
    { name: 'Preprocess', functionName: 'preprocessDatasetStep', compensationFunctionName: 'undoDatasetStep' },
    { name: 'Profile', functionName: 'profileDatasetStep', compensationFunctionName: 'undoDatasetStep' },
    { name: 'Publish', functionName: 'publishDatasetStep' },
  ],
  failureFunctionName: 'failDatasetPipeline',
};
