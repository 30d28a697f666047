import { createReadStream } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sourceFromText } from '../../../shared/data/byte-source.js';
import { profileDataset } from '../../../shared/data/profile-dataset.js';
import { renderQualityReportHtml } from '../../../shared/data/quality-report-html.js';
import { csv } from './helpers.js';

const SKAB = new URL('../../fixtures/data/skab-valve1-0.csv', import.meta.url);

describe('renderQualityReportHtml', () => {
  it('renders a self-contained page: charts per column, findings, nothing external', async () => {
    const report = await profileDataset(createReadStream(SKAB), { datasetId: 'skab-valve1-0', minRowsToTrain: 5000 });
    const html = renderQualityReportHtml(report);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|@import|url\(|src=|href=/i);
    expect(html).toContain("default-src 'none'");
    // One time chart and one histogram per column (8 sensors and the label).
    expect(html.match(/aria-label="[^"]* over time"/g)).toHaveLength(9);
    expect(html.match(/aria-label="histogram"/g)).toHaveLength(9);
    expect(html).toContain('not-trainable');
    // Findings table: errors first.
    const severities = [...html.matchAll(/<tr><td><span class="sev"[^>]*>(\w+)<\/span>/g)].map((m) => m[1]);
    expect(severities[0]).toBe('error');
    expect(severities).toEqual([...severities].sort((a, b) => ['error', 'warning', 'info'].indexOf(a) - ['error', 'warning', 'info'].indexOf(b)));
  });

  it('marks problem spans on the chart of their column', async () => {
    const text = csv(200, ['x'], (i) => (i >= 50 && i < 60 ? '' : i % 10));
    const html = renderQualityReportHtml(await profileDataset(sourceFromText(text), { minRowsToTrain: 10 }));
    expect(html).toMatch(/<rect [^>]*fill="rgba\(21,101,192,0.12\)"[^>]*><title>missing-values: 10 values missing/);
  });

  it('escapes hostile column names and values', async () => {
    const hostile = '<img src=x onerror=alert(1)>"\'&';
    const text = `timestamp,"${hostile.replaceAll('"', '""')}"\n${csv(30, ['x'], (i) => (i === 3 ? 'bad' : i)).split('\n').slice(1).join('\n')}`;
    const report = await profileDataset(sourceFromText(text), { minRowsToTrain: 10, datasetId: '</title><script>x</script>' });
    const html = renderQualityReportHtml(report);
    expect(report.columns[0].name).toBe(hostile);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script');
    expect(html).toContain('&#60;img src=x onerror=alert(1)&#62;&#34;&#39;&#38;');
  });
});
