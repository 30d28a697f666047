import { dynamoEpisodeStore } from '../../shared/aws/episodeRepository.js';
import { readingsStoreFromEnv } from '../../shared/aws/readingsStores.js';
import { dynamoSensorRepository } from '../../shared/aws/sensorRepository.js';
import { apiHandler } from '../../shared/http/apiHandler.js';
import { labelledHistoryCsv } from '../../shared/sensors/labelledHistory.js';
import { getLabelledHistoryRoute } from '../../shared/sensors/readingsContract.js';

const deps = { readings: await readingsStoreFromEnv(), episodes: dynamoEpisodeStore(), sensors: dynamoSensorRepository() };

export const handler = apiHandler(getLabelledHistoryRoute, async ({ tenant, path, query }) => ({
  status: 200,
  text: await labelledHistoryCsv(deps, tenant, { sensorIds: [path.id, ...(query.with ?? []).filter((id) => id !== path.id)], from: query.from, to: query.to }),
  headers: { 'content-type': 'text/csv; charset=utf-8' },
}));
