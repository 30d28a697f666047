import { s3ModelArtifacts } from '../../../shared/aws/modelArtifacts.js';
import { dynamoModelRepository } from '../../../shared/aws/modelRepository.js';
import { stepHandler } from '../../../shared/ml/registry/stepHandler.js';
import { discardStaging } from '../../../shared/ml/registry/training.js';
import { compensationInput } from '../../../shared/ml/registry/trainingPipeline.js';

const deps = { models: dynamoModelRepository(), artifacts: s3ModelArtifacts() };

/** Compensation of the fit step. */
export const handler = stepHandler('undo fit', compensationInput, ({ input }) => discardStaging(deps, input));
