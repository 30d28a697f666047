import { dynamoEpisodeStore } from '../../shared/aws/episodeRepository.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { reviewAnomaly } from '../../shared/sensors/anomalies.js';
import { reviewAnomalyRoute } from '../../shared/sensors/anomalyContract.js';

const episodes = dynamoEpisodeStore();

export const handler = apiHandler(reviewAnomalyRoute, async ({ tenant, path, body, principal }) => ({
  status: 200,
  body: await reviewAnomaly(episodes, tenant, path.id, body, principal!.subject),
}));
