import { s3ModelArtifacts } from '../../../shared/aws/modelArtifacts.js';
import { dynamoModelRepository } from '../../../shared/aws/modelRepository.js';
import { stepHandler } from '../../../shared/ml/registry/stepHandler.js';
import { unregisterModel } from '../../../shared/ml/registry/training.js';
import { compensationInput } from '../../../shared/ml/registry/trainingPipeline.js';

const deps = { models: dynamoModelRepository(), artifacts: s3ModelArtifacts() };

/** Compensation of the register step. */
export const handler = stepHandler('undo register', compensationInput, ({ input }) => unregisterModel(deps, input));
