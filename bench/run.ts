/**
 * `npm run bench [-- name...]`: runs every bench/*.bench.ts (or those named) and writes BENCHMARKS.md
 * with the machine and the command, so every figure can be measured again; the table of figures at
 * a glance heads BENCHMARKS.md and is written into README.md too.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Bench, BenchSection } from './harness.js';
import { glanceBlock, sectionsOf, summaryBlock, summaryTable, withSummary } from './summary.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = (await readdir(here))
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.bench\.ts$/, '')))
  .sort();

const outFile = path.join(here, '..', 'BENCHMARKS.md');
const readmeFile = path.join(here, '..', 'README.md');
// Keep sections of benchmarks not run this time, so a partial run does not erase the others.
const sections = sectionsOf(await readFile(outFile, 'utf8').catch(() => ''));

const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}`;
for (const file of files) {
  const name = file.replace(/\.bench\.ts$/, '');
  console.log(`bench ${name}...`);
  const mod = (await import(pathToFileURL(path.join(here, file)).href)) as { default: Bench };
  const started = Date.now();
  const section: BenchSection = await mod.default();
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  sections.set(
    name,
    `## ${section.title}\n\nMeasured ${when} UTC on ${machine}, in ${((Date.now() - started) / 1000).toFixed(1)} s, with \`npm run bench -- ${name}\`.\n\n${glanceBlock(section.glance)}\n${section.markdown.trim()}\n\n`,
  );
  console.log(section.markdown);
}

const sorted = new Map([...sections.entries()].sort(([a], [b]) => a.localeCompare(b)));
const summary = summaryTable(sorted);
const body = [...sorted.entries()].map(([name, text]) => `<!-- bench:${name} -->\n${text}<!-- /bench:${name} -->`).join('\n\n');
await writeFile(
  outFile,
  `# Benchmarks\n\nWritten by \`npm run bench\` (all) or \`npm run bench -- NAME\` (one). Figures are what was measured, including where they fall short of the aim. Nothing here is a timed test.\n\nAt a glance (each section below opens with its own rows; README.md carries this table, and a test checks that the two agree):\n\n${summaryBlock(summary)}\n\n${body}\n`,
);
await writeFile(readmeFile, withSummary(await readFile(readmeFile, 'utf8'), summary));
console.log(`wrote ${outFile} and the summary table of ${readmeFile}`);
