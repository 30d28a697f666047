import { dynamoSensorRepository } from '../../shared/aws/sensorRepository.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { registerSensorRoute } from '../../shared/sensors/contract.js';
import { registerSensor } from '../../shared/sensors/registry.js';

const sensors = dynamoSensorRepository();

export const handler = apiHandler(registerSensorRoute, async ({ tenant, body }) => {
  const sensor = await registerSensor(sensors, tenant, body);
  return { status: 201, body: sensor, headers: { location: `/api/v1/sensors/${sensor.id}` } };
});
