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

/** The quality report of a tenant's dataset, that of its published run; 404 while it has none (no run published yet). */
export async function getQualityReport(deps: { datasets: DatasetRepository; objects: DatasetObjects }, tenant: string, datasetId: string) {
  const dataset = await deps.datasets.get(tenant, datasetId);
  if (!dataset) throw new NotFoundError(`No dataset "${datasetId}".`);
  // The report of the run whose outputs are current: a run in progress, or one that failed, has not replaced it.
  const text = dataset.publishedRunId ? await deps.objects.getText(datasetKeys(tenant, datasetId).run(dataset.publishedRunId).quality) : undefined;
  if (!text) throw new NotFoundError(`Dataset "${datasetId}" has no quality report yet (status ${dataset.status}).`);
  return QualityReport.parse(JSON.parse(text));
}

export { renderQualityReportHtml };
