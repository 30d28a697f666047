import { dynamoEpisodeStore } from '../../shared/aws/episodeRepository.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { listAnomalies } from '../../shared/sensors/anomalies.js';
import { listAnomaliesRoute } from '../../shared/sensors/anomalyContract.js';

const episodes = dynamoEpisodeStore();

export const handler = apiHandler(listAnomaliesRoute, async ({ tenant, query: { limit, cursor, ...filter } }) => ({
  status: 200,
  body: await listAnomalies(episodes, tenant, { sensorId: filter.sensorId, group: filter.group, status: filter.status, from: filter.from, to: filter.to }, { limit, cursor }),
}));
