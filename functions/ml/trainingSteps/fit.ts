import { s3DatasetObjects } from '../../../shared/aws/datasetObjects.js';
import { s3ModelArtifacts } from '../../../shared/aws/modelArtifacts.js';
import { dynamoModelRepository } from '../../../shared/aws/modelRepository.js';
import { dynamoVerdictLabelStore } from '../../../shared/aws/verdictLabelRepository.js';
import { stepHandler } from '../../../shared/ml/registry/stepHandler.js';
import { fitModel } from '../../../shared/ml/registry/training.js';
import { trainingState } from '../../../shared/ml/registry/trainingPipeline.js';

const deps = { models: dynamoModelRepository(), artifacts: s3ModelArtifacts(), datasetObjects: s3DatasetObjects(), verdicts: dynamoVerdictLabelStore() };

export const handler = stepHandler('fit', trainingState, (state) => fitModel(deps, state));
