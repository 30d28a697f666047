import type { GlanceRow } from './summary.js';

/** What one benchmark file reports: a section of BENCHMARKS.md. */
export interface BenchSection {
  title: string;
  /** The figures at a glance, against the issue's aims: they open the section and make up the README's table. */
  glance: GlanceRow[];
  /** Markdown body: tables of what was measured, and how it compares with the issue's aim. */
  markdown: string;
}

/** Each `bench/*.bench.ts` file default-exports one of these. */
export type Bench = () => Promise<BenchSection>;

/** Percentile of an already sorted array (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** A markdown table from a header row and rows of cells. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
