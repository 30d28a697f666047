import { s3DatasetObjects } from '../../../shared/aws/datasetObjects.js';
import { s3ModelArtifacts } from '../../../shared/aws/modelArtifacts.js';
import { dynamoModelRepository } from '../../../shared/aws/modelRepository.js';
import { createOnnxScorer } from '../../../shared/ml/onnx/scorer.js';
import { stepHandler } from '../../../shared/ml/registry/stepHandler.js';
import { evaluateModel } from '../../../shared/ml/registry/training.js';
import { trainingState } from '../../../shared/ml/registry/trainingPipeline.js';

const deps = { models: dynamoModelRepository(), artifacts: s3ModelArtifacts(), datasetObjects: s3DatasetObjects(), loadScorer: createOnnxScorer };

export const handler = stepHandler('evaluate', trainingState, (state) => evaluateModel(deps, state));
