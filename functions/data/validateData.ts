import { dynamoSensorRepository } from '../../shared/aws/sensorRepository.js';
import { validateDataRoute } from '../../shared/data/api/contract.js';
import { validateInline } from '../../shared/data/api/inline.js';
import { apiHandler } from '../../shared/http/apiHandler.js';

const sensors = dynamoSensorRepository();

export const handler = apiHandler(validateDataRoute, async ({ tenant, body }) => ({ status: 200, body: await validateInline(sensors, tenant, body, body.maxRowErrors) }));
