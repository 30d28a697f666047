import { dynamoSensorRepository } from '../../shared/aws/sensorRepository.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { getSensorRoute } from '../../shared/sensors/contract.js';
import { getSensor } from '../../shared/sensors/registry.js';
import { cachedSensors } from '../../shared/sensors/sensorCache.js';

// Sensors never change once registered, so a read is trusted for the cache's minute; "unknown" is not
// kept, so a sensor registered a moment ago is found at once.
const sensors = cachedSensors(dynamoSensorRepository(), { unknownTtlMs: 0 });

export const handler = apiHandler(getSensorRoute, async ({ tenant, path }) => ({ status: 200, body: await getSensor(sensors, tenant, path.id) }));
