import { dynamoSensorRepository } from '../../shared/aws/sensorRepository.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { listSensorsRoute } from '../../shared/sensors/contract.js';
import { listSensors } from '../../shared/sensors/registry.js';

const sensors = dynamoSensorRepository();

export const handler = apiHandler(listSensorsRoute, async ({ tenant, query: { limit, cursor, group, type } }) => ({
  status: 200,
  body: await listSensors(sensors, tenant, { group, type }, { limit, cursor }),
}));
