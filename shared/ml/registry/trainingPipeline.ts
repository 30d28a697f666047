/**
 * The training pipeline as a saga: fit -> evaluate -> register. A failure runs the compensations
 * of the steps already done in reverse (unregister, then discard staging), then records the
 * failure on the model. The lead wires `trainingSaga` into Step Functions and the local runner
 * with `sagaDefinition()` (shared/platform/saga.ts); the function names are catalog entries.
 */
import { z } from 'zod';
import type { SagaDefinition } from '../../platform/saga.js';
import { detectorNameSchema, multivariateDetectors } from '../detectors.js';
import { modelMetrics, trainingParameters } from './model.js';

/** Catalog names of the pipeline's functions. */
export const trainingFunctionNames = {
  fit: 'trainingFit',
  evaluate: 'trainingEvaluate',
  register: 'trainingRegister',
  discardStaging: 'trainingDiscardStaging',
  unregister: 'trainingUnregister',
  recordFailure: 'trainingRecordFailure',
} as const;

/** The state machine's logical name: its ARN reaches POST /ml/train in STATE_MACHINE_TRAINING_PIPELINE. */
export const trainingStateMachineName = 'trainingPipeline';

export const trainingSaga: SagaDefinition = {
  comment: 'Telltale training: fit a detector on a READY dataset, evaluate it on the hold-out, register the ONNX artifact',
  steps: [
    { name: 'fit', functionName: trainingFunctionNames.fit, compensationFunctionName: trainingFunctionNames.discardStaging },
    { name: 'evaluate', functionName: trainingFunctionNames.evaluate },
    { name: 'register', functionName: trainingFunctionNames.register, compensationFunctionName: trainingFunctionNames.unregister },
  ],
  failureFunctionName: trainingFunctionNames.recordFailure,
};

/** The execution input, built from the model record only, so a retried start sends identical input. */
export const trainingRun = z.object({
  tenant: z.string(),
  modelId: z.string(),
  version: z.number().int().min(1),
  jobId: z.string(),
  datasetId: z.string(),
  processedKey: z.string(),
  columns: z.object({ timestampColumn: z.string().optional(), features: z.array(z.string()).optional(), labelColumn: z.string().optional() }),
  // Executions started before the rename carry `iforest`.
  detector: detectorNameSchema(multivariateDetectors),
  parameters: trainingParameters,
  split: z.object({ trainRows: z.number().int().optional(), trainFraction: z.number().optional() }),
  sensitivity: z.number().optional(),
  /** The request that started the training: every step logs it, its events carry it. */
  correlationId: z.string().optional(),
});
export type TrainingRun = z.infer<typeof trainingRun>;

export const fitOutput = z.object({ features: z.array(z.string()), trainRows: z.number().int(), usableRows: z.number().int(), sha256: z.string(), bytes: z.number().int() });
export type FitOutput = z.infer<typeof fitOutput>;
export const evaluateOutput = z.object({ metrics: modelMetrics });

/** The saga state a step receives: the run plus the outputs of the steps before it. */
export const trainingState = trainingRun.extend({
  steps: z
    .object({
      fit: z.object({ output: fitOutput }).optional(),
      evaluate: z.object({ output: evaluateOutput }).optional(),
    })
    .optional(),
});
export type TrainingState = z.infer<typeof trainingState>;

/** What a compensation receives (shared/platform/saga.ts): the failed step's name and the state. */
export const compensationInput = z.object({ step: z.string(), input: trainingState });

/** What the failure function receives: the state with the failed step and Step Functions' error. */
export const failureInput = trainingState.extend({
  failedStep: z.string(),
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});
export type FailureInput = z.infer<typeof failureInput>;
