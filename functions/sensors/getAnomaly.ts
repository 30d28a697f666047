import { dynamoEpisodeStore } from '../../shared/aws/episodeRepository.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { getAnomaly } from '../../shared/sensors/anomalies.js';
import { getAnomalyRoute } from '../../shared/sensors/anomalyContract.js';

const episodes = dynamoEpisodeStore();

export const handler = apiHandler(getAnomalyRoute, async ({ tenant, path }) => ({ status: 200, body: await getAnomaly(episodes, tenant, path.id) }));
