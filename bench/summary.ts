/**
 * The figures at a glance: each BENCHMARKS.md section opens with a small table (measure, aim,
 * measured), and the table of all of them heads BENCHMARKS.md and stands in the README, so the
 * README can never tell other figures than the benchmarks last measured.
 */
import { table } from './harness.js';

export interface GlanceRow {
  measure: string;
  /** The aim, or `-` where there is none. */
  aim: string;
  /** What was measured, saying where it falls short. */
  measured: string;
}

const glanceHeading = '**At a glance**';
const glanceHeader = ['measure', 'aim', 'measured'] as const;
const summaryMarkers = { begin: '<!-- benchmarks:summary -->', end: '<!-- /benchmarks:summary -->' };

/** The at-a-glance block a section opens with. */
export const glanceBlock = (rows: readonly GlanceRow[]): string =>
  `${glanceHeading}\n\n${table(glanceHeader, rows.map((r) => [r.measure, r.aim, r.measured]))}\n`;

/** The at-a-glance rows of one section's markdown (none when it has no such block). */
export function glanceRowsOf(section: string): GlanceRow[] {
  const at = section.indexOf(glanceHeading);
  if (at < 0) return [];
  const lines = section.slice(at + glanceHeading.length).trimStart().split('\n');
  const rows: GlanceRow[] = [];
  for (const line of lines.slice(2)) {
    if (!line.startsWith('|')) break;
    const [measure, aim, measured] = line.slice(1, -1).split(' | ').map((cell) => cell.trim());
    rows.push({ measure, aim, measured });
  }
  return rows;
}

/** The sections of BENCHMARKS.md, by benchmark name, in file order. */
export function sectionsOf(benchmarks: string): Map<string, string> {
  const sections = new Map<string, string>();
  for (const m of benchmarks.matchAll(/<!-- bench:(\S+) -->\n([\s\S]*?)<!-- \/bench:\1 -->/g)) sections.set(m[1], m[2]);
  return sections;
}

/** One table of every section's at-a-glance rows, each row naming its benchmark. */
export function summaryTable(sections: ReadonlyMap<string, string>): string {
  const rows = [...sections.entries()].flatMap(([name, text]) => glanceRowsOf(text).map((r) => [`${r.measure} (\`${name}\`)`, r.aim, r.measured]));
  return table(glanceHeader, rows);
}

/** The summary table as it stands between the markers of a document (README.md or BENCHMARKS.md). */
export function summaryIn(document: string): string | undefined {
  const begin = document.indexOf(summaryMarkers.begin);
  const end = document.indexOf(summaryMarkers.end);
  if (begin < 0 || end < begin) return undefined;
  return document.slice(begin + summaryMarkers.begin.length, end).trim();
}

/** The document with the summary table put between its markers. */
export function withSummary(document: string, summary: string): string {
  const begin = document.indexOf(summaryMarkers.begin);
  const end = document.indexOf(summaryMarkers.end);
  if (begin < 0 || end < begin) throw new Error(`no ${summaryMarkers.begin} ... ${summaryMarkers.end} markers to put the benchmark summary between`);
  return `${document.slice(0, begin + summaryMarkers.begin.length)}\n${summary}\n${document.slice(end)}`;
}

export const summaryBlock = (summary: string): string => `${summaryMarkers.begin}\n${summary}\n${summaryMarkers.end}`;
