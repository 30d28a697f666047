/**
 * The quality report as one self-contained HTML page: inline CSS and SVG, no scripts, fonts or
 * links, and a Content-Security-Policy that forbids them. Every string that comes from the data
 * (column names, messages quoting values, units) is escaped.
 */
import type { Finding, QualityReport, Severity } from './quality-report.js';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${Number(x.toPrecision(5))}`);
const COLOR: Record<Severity, string> = { error: '#c62828', warning: '#ef8f00', info: '#1565c0' };
const FILL: Record<Severity, string> = { error: 'rgba(198,40,40,0.22)', warning: 'rgba(239,143,0,0.22)', info: 'rgba(21,101,192,0.12)' };
const TIME_CHECKS = new Set(['duplicate-timestamps', 'backwards-timestamps', 'time-gaps', 'invalid-timestamps']);

function where(f: Finding): string {
  const shown = f.ranges.slice(0, 3).map((r) => {
    const lines = r.fromLine === r.toLine ? `line ${r.fromLine}` : `lines ${r.fromLine}–${r.toLine}`;
    const time = r.start ? ` (${r.start === r.end || !r.end ? r.start : `${r.start} – ${r.end}`})` : '';
    return esc(lines + time);
  });
  const more = f.ranges.length > 3 || f.rangesTruncated ? ` and ${f.rangesTruncated ? 'more' : f.ranges.length - 3} more` : '';
  return shown.join('<br>') + more;
}

function findingsTable(findings: readonly Finding[]): string {
  if (findings.length === 0) return '<p class="ok">No problems found.</p>';
  const rows = findings
    .map(
      (f) =>
        `<tr><td><span class="sev" style="background:${COLOR[f.severity]}">${f.severity}</span></td><td>${esc(f.check)}</td><td>${esc(f.column ?? '(rows)')}</td><td class="num">${f.count}</td><td>${esc(f.message)}</td><td class="where">${where(f)}</td></tr>`,
    )
    .join('\n');
  return `<table class="findings"><thead><tr><th>Severity</th><th>Check</th><th>Column</th><th>Count</th><th>What</th><th>Where</th></tr></thead><tbody>${rows}</tbody></table>`;
}

const W = 860;
const H = 170;
const PAD = { l: 64, r: 10, t: 10, b: 26 };

function timeChart(report: QualityReport, index: number): string {
  const s = report.series;
  const col = s.columns[index];
  const n = s.fromLine.length;
  if (n === 0) return '<p>No data.</p>';
  const x0 = s.fromLine[0];
  const x1 = Math.max(s.toLine[n - 1], x0 + 1);
  const xs = (line: number) => PAD.l + ((line - x0) / (x1 - x0)) * (W - PAD.l - PAD.r);
  const finite = [...col.min, ...col.max].filter((v): v is number => v !== null);
  const profile = report.columns[index];
  if (profile.expectedRange) finite.push(profile.expectedRange.min, profile.expectedRange.max);
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (!Number.isFinite(lo)) {
    lo = 0;
    hi = 1;
  }
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  }
  const ys = (v: number) => PAD.t + (1 - (v - lo) / (hi - lo)) * (H - PAD.t - PAD.b);
  const mid = (i: number) => xs((s.fromLine[i] + s.toLine[i]) / 2);

  const marks = report.findings
    .filter((f) => f.column === col.name || (f.column === undefined && TIME_CHECKS.has(f.check)))
    .flatMap((f) =>
      f.ranges.map((r) => {
        const a = xs(r.fromLine);
        const w = Math.max(2, xs(r.toLine) - a);
        return `<rect x="${a.toFixed(1)}" y="${PAD.t}" width="${w.toFixed(1)}" height="${H - PAD.t - PAD.b}" fill="${FILL[f.severity]}" stroke="${COLOR[f.severity]}" stroke-width="0.5"><title>${esc(`${f.check}: ${f.message}`)}</title></rect>`;
      }),
    );
  // Min-max band and mean line, broken where a point has no value.
  const segments: string[] = [];
  const bands: string[] = [];
  let seg: string[] = [];
  let top: string[] = [];
  let bottom: string[] = [];
  const flush = () => {
    if (seg.length > 0) segments.push(`<polyline points="${seg.join(' ')}" fill="none" stroke="#263238" stroke-width="1"/>`);
    if (top.length > 0) bands.push(`<polygon points="${[...top, ...bottom.reverse()].join(' ')}" fill="#90a4ae" fill-opacity="0.45"/>`);
    seg = [];
    top = [];
    bottom = [];
  };
  for (let i = 0; i < n; i++) {
    const m = col.mean[i];
    const a = col.min[i];
    const b = col.max[i];
    if (m === null || a === null || b === null) {
      flush();
      continue;
    }
    const x = mid(i).toFixed(1);
    seg.push(`${x},${ys(m).toFixed(1)}`);
    top.push(`${x},${ys(b).toFixed(1)}`);
    bottom.push(`${x},${ys(a).toFixed(1)}`);
  }
  flush();
  const range = profile.expectedRange
    ? [profile.expectedRange.min, profile.expectedRange.max].map((v) => `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${ys(v).toFixed(1)}" y2="${ys(v).toFixed(1)}" stroke="#6a1b9a" stroke-dasharray="4 3"/>`).join('')
    : '';
  const t0 = s.time[0];
  const t1 = s.time[n - 1];
  const label = (t: number | null, line: number) => esc(t === null ? `line ${line}` : new Date(t).toISOString().replace('.000Z', 'Z'));
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(col.name)} over time">
<rect x="${PAD.l}" y="${PAD.t}" width="${W - PAD.l - PAD.r}" height="${H - PAD.t - PAD.b}" fill="#fafafa" stroke="#cfd8dc"/>
${marks.join('\n')}
${bands.join('\n')}
${segments.join('\n')}
${range}
<text x="${PAD.l - 4}" y="${PAD.t + 10}" text-anchor="end">${fmt(hi)}</text>
<text x="${PAD.l - 4}" y="${H - PAD.b}" text-anchor="end">${fmt(lo)}</text>
<text x="${PAD.l}" y="${H - 8}">${label(t0, s.fromLine[0])}</text>
<text x="${W - PAD.r}" y="${H - 8}" text-anchor="end">${label(t1, s.toLine[n - 1])}</text>
</svg>`;
}

function histogramChart(report: QualityReport, index: number): string {
  const h = report.columns[index].histogram;
  const hw = 300;
  if (h.counts.length === 0) return '';
  const max = Math.max(...h.counts, 1);
  const bw = (hw - 20) / h.counts.length;
  const bars = h.counts
    .map((c, i) => {
      const bh = (c / max) * (H - PAD.t - PAD.b);
      return `<rect x="${(10 + i * bw).toFixed(1)}" y="${(H - PAD.b - bh).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${bh.toFixed(1)}" fill="#546e7a"><title>${fmt(h.edges[i])} – ${fmt(h.edges[i + 1])}: ${Math.round(c)}</title></rect>`;
    })
    .join('');
  return `<svg viewBox="0 0 ${hw} ${H}" width="${hw}" height="${H}" role="img" aria-label="histogram">${bars}
<text x="10" y="${H - 8}">${fmt(h.edges[0])}</text><text x="${hw - 10}" y="${H - 8}" text-anchor="end">${fmt(h.edges[h.edges.length - 1])}</text></svg>`;
}

export function renderQualityReportHtml(report: QualityReport): string {
  const sm = report.summary;
  const verdictColor = sm.verdict === 'not-trainable' ? COLOR.error : sm.verdict === 'usable-with-warnings' ? COLOR.warning : '#2e7d32';
  const title = `Data quality${report.datasetId ? ` of ${report.datasetId}` : ''}`;
  const columns = report.columns
    .map((c, i) => {
      const worst = report.findings.find((f) => f.column === c.name);
      const badge = worst ? `<span class="sev" style="background:${COLOR[worst.severity]}">${worst.severity}</span>` : '';
      const stats = `count ${c.count} · missing ${c.missing} · non-numeric ${c.invalid} · min ${fmt(c.min)} · median ${fmt(c.quantiles.find((q) => q.q === 0.5)?.value)} · max ${fmt(c.max)} · mean ${fmt(c.mean)} · std ${fmt(c.std)}`;
      return `<section class="col"><h3>${esc(c.name)}${c.unit ? ` <small>(${esc(c.unit)})</small>` : ''}${c.role === 'label' ? ' <small>(label)</small>' : ''} ${badge}</h3>
<p class="stats">${esc(stats)}</p>
<div class="charts">${timeChart(report, i)}${histogramChart(report, i)}</div></section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#212121}
h1{margin:0 0 4px}h2{margin-top:28px}h3{margin:18px 0 4px}
.verdict{display:inline-block;padding:4px 10px;border-radius:4px;color:#fff;font-weight:600}
.sev{display:inline-block;padding:1px 6px;border-radius:3px;color:#fff;font-size:12px}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #e0e0e0;padding:4px 6px;text-align:left;vertical-align:top}
td.num{text-align:right}td.where{font-size:12px;color:#455a64}
.summary td{border:none;padding:2px 12px 2px 0}
.stats{color:#455a64;font-size:12px;margin:0}.charts{display:flex;flex-wrap:wrap;gap:12px}
svg text{font-size:11px;fill:#455a64}.ok{color:#2e7d32}
</style></head><body>
<h1>${esc(title)}</h1>
<p><span class="verdict" style="background:${verdictColor}">${esc(sm.verdict)}</span> ${sm.errors} errors · ${sm.warnings} warnings · ${sm.infos} notes</p>
<table class="summary"><tr><td>Rows</td><td>${sm.rows} (${sm.rowsWithTime} with a timestamp)</td></tr>
<tr><td>Time</td><td>${esc(sm.start ?? '–')} – ${esc(sm.end ?? '–')}</td></tr>
<tr><td>Interval</td><td>expected ${fmt(sm.expectedIntervalSeconds)} s, median ${fmt(sm.medianIntervalSeconds)} s</td></tr>
<tr><td>Sensors</td><td>${sm.sensorColumns}; ${report.series.rowsPerPoint} rows per chart point</td></tr>
<tr><td>Generated</td><td>${esc(report.generatedAt)}</td></tr></table>
<h2>Findings</h2>
${findingsTable(report.findings)}
<h2>Columns</h2>
<p class="stats">Grey band: min–max of each chart point; line: mean; shaded spans: where a finding applies (red error, orange warning, blue note); dashed: expected range.</p>
${columns}
</body></html>
`;
}
