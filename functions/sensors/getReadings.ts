import { readingsStoreFromEnv } from '../../shared/aws/readingsStores.js';
import { dynamoSensorRepository } from '../../shared/aws/sensorRepository.js';
import { apiHandler, type ApiReply } from '../../shared/http/apiHandler.js';
import { getReadingsRoute } from '../../shared/sensors/readingsContract.js';
import { readSeries, seriesCsv } from '../../shared/sensors/readingsSeries.js';

const deps = { store: await readingsStoreFromEnv(), sensors: dynamoSensorRepository() };
const wantsCsv = (accept: string | undefined) => accept?.split(',').some((m) => m.split(';')[0].trim().toLowerCase() === 'text/csv') === true;

export const handler = apiHandler(getReadingsRoute, async ({ tenant, path, query, headers }): Promise<ApiReply> => {
  const series = await readSeries(deps, tenant, path.id, query);
  if (!wantsCsv(headers.accept)) return { status: 200, body: series, headers: { vary: 'accept' } };
  return { status: 200, text: seriesCsv(series), headers: { 'content-type': 'text/csv; charset=utf-8', vary: 'accept' } };
});
