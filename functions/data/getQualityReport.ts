import { s3DatasetObjects } from '../../shared/aws/datasetObjects.js';
import { dynamoDatasetRepository } from '../../shared/aws/datasetRepository.js';
import { qualityReportRoute } from '../../shared/data/api/contract.js';
import { getQualityReport, renderQualityReportHtml, wantsHtml } from '../../shared/data/api/qualityReport.js';
import { apiHandler, type ApiReply } from '../../shared/http/apiHandler.js';

const deps = { datasets: dynamoDatasetRepository(), objects: s3DatasetObjects() };

export const handler = apiHandler(qualityReportRoute, async ({ tenant, query, headers }): Promise<ApiReply> => {
  const report = await getQualityReport(deps, tenant, query.datasetId);
  if (!wantsHtml(headers.accept, query.format)) return { status: 200, body: report, headers: { vary: 'accept' } };
  return {
    status: 200,
    text: renderQualityReportHtml(report),
    headers: { 'content-type': 'text/html; charset=utf-8', vary: 'accept', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:" },
  };
});
