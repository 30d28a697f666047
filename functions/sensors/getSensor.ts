import { dynamoSensorRepository } from '../../shared/aws/sensorRepository.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { getSensorRoute } from '../../shared/sensors/contract.js';
import { getSensor } from '../../shared/sensors/registry.js';

const sensors = dynamoSensorRepository();

export const handler = apiHandler(getSensorRoute, async ({ tenant, path }) => ({ status: 200, body: await getSensor(sensors, tenant, path.id) }));
