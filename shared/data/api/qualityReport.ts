import { NotFoundError } from '../../platform/errors.js';
import { QualityReport } from '../quality-report.js';
import { renderQualityReportHtml } from '../quality-report-html.js';
import { datasetKeys } from '../registry/dataset.js';
import type { DatasetObjects, DatasetRepository } from '../registry/datasetRepository.js';

/** Prefers HTML only when the client asks for it before JSON. */
export function wantsHtml(accept: string | undefined, format: 'json' | 'html' | undefined): boolean {
  if (format) return format === 'html';
  if (!accept) return false;
  const html = accept.indexOf('text/html');
  const json = accept.indexOf('application/json');
  return html >= 0 && (json < 0 || html < json);
}

/** The stored quality report of a tenant's dataset; 404 while the dataset has none (not profiled yet, or failed before). */
export async function getQualityReport(deps: { datasets: DatasetRepository; objects: DatasetObjects }, tenant: string, datasetId: string) {
  const dataset = await deps.datasets.get(tenant, datasetId);
  if (!dataset) throw new NotFoundError(`No dataset "${datasetId}".`);
  const text = await deps.objects.getText(datasetKeys(tenant, datasetId).quality);
  if (!text) throw new NotFoundError(`Dataset "${datasetId}" has no quality report yet (status ${dataset.status}).`);
  return QualityReport.parse(JSON.parse(text));
}

export { renderQualityReportHtml };
