import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { glanceBlock, glanceRowsOf, sectionsOf, summaryIn, summaryTable, withSummary } from '../../../bench/summary.js';

const read = (file: string) => readFileSync(new URL(`../../../${file}`, import.meta.url), 'utf8');

describe('the table of figures', () => {
  const benchmarks = read('BENCHMARKS.md');
  const sections = sectionsOf(benchmarks);

  it('opens every BENCHMARKS.md section with its figures at a glance', () => {
    expect(sections.size).toBeGreaterThan(0);
    for (const [name, text] of sections) expect(glanceRowsOf(text), name).not.toHaveLength(0);
  });

  it('stands in the README as BENCHMARKS.md measured it', () => {
    expect(summaryIn(read('README.md'))).toBe(summaryTable(sections));
  });

  it('heads BENCHMARKS.md', () => {
    expect(summaryIn(benchmarks)).toBe(summaryTable(sections));
  });

  it('reads back the rows a section was written with, and replaces a stale table whole', () => {
    const rows = [
      { measure: 'throughput', aim: '1,000 req/s', measured: '900 req/s: **short**' },
      { measure: 'p95', aim: '-', measured: '3 ms' },
    ];
    const section = `## A bench\n\nMeasured now.\n\n${glanceBlock(rows)}\nMore text.\n\n| other | table |\n| --- | --- |\n| 1 | 2 |\n`;
    expect(glanceRowsOf(section)).toEqual(rows);
    const summary = summaryTable(new Map([['a', section]]));
    expect(summary).toContain('| throughput (`a`) | 1,000 req/s | 900 req/s: **short** |');
    expect(summary).not.toContain('other');
    const document = withSummary('intro\n<!-- benchmarks:summary -->\n| stale |\n<!-- /benchmarks:summary -->\noutro\n', summary);
    expect(summaryIn(document)).toBe(summary);
    expect(document).not.toContain('stale');
    expect(document).toMatch(/^intro\n[\s\S]*\noutro\n$/);
  });
});
