import type { SagaDefinition } from '../../platform/saga.js';

/**
 * Child executions of the Distributed Map at once, each one Lambda invocation reading its chunk
 * with ranged GETs. A deployment sets its own (`-c datasetMapConcurrency=N`) to fit its account's
 * Lambda concurrency, which the API shares.
 */
export const chunkConcurrency = 40;

/**
 * The dataset pipeline: a saga whose steps are catalog functions. Plan records the run and, for a
 * file over the split size, cuts it into byte-range chunks that the Split step (a Distributed Map)
 * validates, profiles and preprocesses in parallel; Validate, Preprocess and Profile then merge the
 * chunks' results (or do the work themselves on a small file). Train, evaluate and register plug
 * in after Profile.
 */
export const datasetPipeline: SagaDefinition = {
  comment: 'Telltale dataset pipeline: plan -> [split (Distributed Map)] -> validate -> preprocess -> profile -> publish, compensated in reverse on failure',
  steps: [
    { name: 'Plan', functionName: 'planDatasetStep' },
    {
      name: 'Split',
      functionName: 'processDatasetChunk',
      compensationFunctionName: 'undoDatasetStep',
      onlyWhen: '$.steps.Plan.output.chunked',
      map: {
        itemsPath: '$.steps.Plan.output.chunks',
        itemSelector: {
          'tenant.$': '$.tenant',
          'datasetId.$': '$.datasetId',
          'key.$': '$.key',
          'versionId.$': '$.versionId',
          'runId.$': '$.runId',
          'chunk.$': '$$.Map.Item.Value',
        },
        maxConcurrency: chunkConcurrency,
      },
    },
    { name: 'Validate', functionName: 'validateDatasetStep', compensationFunctionName: 'undoDatasetStep' },
    { name: 'Preprocess', functionName: 'preprocessDatasetStep', compensationFunctionName: 'undoDatasetStep' },
    { name: 'Profile', functionName: 'profileDatasetStep', compensationFunctionName: 'undoDatasetStep' },
    { name: 'Publish', functionName: 'publishDatasetStep' },
  ],
  failureFunctionName: 'failDatasetPipeline',
};
