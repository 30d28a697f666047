import { dynamoEpisodeStore } from '../../shared/aws/episodeRepository.js';
import { eventBusPublisher } from '../../shared/aws/eventBus.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { reviewAnomaly } from '../../shared/sensors/anomalies.js';
import { reviewAnomalyRoute } from '../../shared/sensors/anomalyContract.js';

const deps = { episodes: dynamoEpisodeStore(), events: eventBusPublisher() };

export const handler = apiHandler(reviewAnomalyRoute, async ({ tenant, path, body, principal }) => ({
  status: 200,
  body: await reviewAnomaly(deps, tenant, path.id, body, principal!.subject),
}));
