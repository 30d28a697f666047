import { eventBusPublisher } from '../../../shared/aws/eventBus.js';
import { dynamoModelRepository } from '../../../shared/aws/modelRepository.js';
import { stepHandler } from '../../../shared/ml/registry/stepHandler.js';
import { modelEvents, recordTrainingFailure } from '../../../shared/ml/registry/training.js';
import { failureInput } from '../../../shared/ml/registry/trainingPipeline.js';

const deps = { models: dynamoModelRepository(), events: modelEvents(eventBusPublisher()) };

/** The saga's failure function: the model becomes FAILED with the step and cause. */
export const handler = stepHandler('record failure', failureInput, (failure) => recordTrainingFailure(deps, failure));
