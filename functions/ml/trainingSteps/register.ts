import { eventBusPublisher } from '../../../shared/aws/eventBus.js';
import { s3ModelArtifacts } from '../../../shared/aws/modelArtifacts.js';
import { dynamoModelRepository } from '../../../shared/aws/modelRepository.js';
import { stepHandler } from '../../../shared/ml/registry/stepHandler.js';
import { modelEvents, registerModel } from '../../../shared/ml/registry/training.js';
import { trainingState } from '../../../shared/ml/registry/trainingPipeline.js';

const deps = { models: dynamoModelRepository(), artifacts: s3ModelArtifacts(), events: modelEvents(eventBusPublisher()) };

export const handler = stepHandler('register', trainingState, (state) => registerModel(deps, state));
