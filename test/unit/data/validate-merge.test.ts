import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chunkSource, planChunks } from '../../../shared/data/chunk-plan.js';
import { validateDataset, validatePartial, ValidationMerger, type ValidateOptions } from '../../../shared/data/validate-dataset.js';
import { ValidationPartial, type ValidationReport } from '../../../shared/data/validation-report.js';
import { chunked, csv } from './helpers.js';

const SKAB = readFileSync(new URL('../../fixtures/data/skab-valve1-0.csv', import.meta.url), 'utf8');
const T0 = Date.UTC(2024, 0, 1);
const iso = (i: number) => new Date(T0 + i * 1000).toISOString();

/** Lines with their line breaks. */
const splitLines = (text: string) => text.match(/[^\n]*\n|[^\n]+$/g) ?? [];

/** The schema every chunk is given: the one the whole file declares, or the one inferred from it (as the planner infers it from the head). */
async function chunkOptions(text: string, options: ValidateOptions): Promise<ValidateOptions> {
  if (options.schema) return options;
  const whole = await validateDataset(chunked(text, 4096), options);
  return whole.schema ? { ...options, schema: whole.schema, schemaSource: 'inferred' } : options;
}

/** Partial of one chunk, through JSON and the zod schema as it would go through S3. */
async function partialOf(source: string, options: ValidateOptions): Promise<ValidationPartial> {
  const p = await validatePartial(chunked(source, 13), options);
  return ValidationPartial.parse(JSON.parse(JSON.stringify(p)));
}

/** The data lines cut into n chunks by line, the header before each (CSV), validated and merged. */
async function validateInChunks(text: string, n: number, options: ValidateOptions = {}): Promise<ValidationReport> {
  const lines = splitLines(text);
  const headerIndex = lines.findIndex((l) => l.trim().length > 0);
  const format = headerIndex >= 0 && lines[headerIndex].trimStart().startsWith('{') ? 'jsonl' : 'csv';
  const header = format === 'csv' ? lines.slice(0, headerIndex + 1).join('') : '';
  const data = format === 'csv' ? lines.slice(headerIndex + 1) : lines;
  const opts = await chunkOptions(text, options);
  const merger = new ValidationMerger(options);
  for (let k = 0; k < n; k++) {
    const own = data.slice(Math.floor((k * data.length) / n), Math.floor(((k + 1) * data.length) / n)).join('');
    merger.add(await partialOf(header + own, { ...opts, chunk: { index: k, format } }));
  }
  return merger.finish();
}

/** Data line index (0-based, after the header) of the first line of each chunk but the first, for 2, 3 and 7 chunks of n lines. */
const boundaries = (n: number) => [...new Set([2, 3, 7].flatMap((parts) => Array.from({ length: parts - 1 }, (_, k) => Math.floor(((k + 1) * n) / parts))))];

/** A CSV of n rows (a, b) whose rows are edited by `edit` (data index, line) -> line. */
function generated(n: number, edit: (i: number, line: string) => string): string {
  const [header, ...rows] = csv(n, ['a', 'b'], (i, c) => (i * 3 + c) % 17).split('\n');
  return [header, ...rows.slice(0, n).map((l, i) => edit(i, l)), ''].join('\n');
}

const at = new Set(boundaries(70));
const FILES: [string, string, ValidateOptions?][] = [
  ['the SKAB valve file', SKAB],
  ['a clean CSV', csv(70, ['a', 'b'], (i, c) => i + c)],
  [
    'out-of-order rows at the chunk boundaries',
    generated(70, (i, l) => (at.has(i) ? l.replace(/^[^,]+/, iso(i - 5)) : l)),
  ],
  [
    'bad timestamps (within the ratio), some at boundaries',
    generated(70, (i, l) => (i === 10 ? l.replace(/^[^,]+/, 'soon') : i === 23 ? l.replace(/^[^,]+/, '') : i === 24 ? l.replace(/^[^,]+/, iso(3)) : l)),
    { maxBadTimestampRatio: 0.05 },
  ],
  ['too many bad timestamps', generated(70, (i, l) => (i % 9 === 4 ? l.replace(/^[^,]+/, 'later') : l))],
  ['no readable timestamp at all', generated(70, (_i, l) => l.replace(/^[^,]+/, 'x'))],
  ['ragged rows (within the ratio)', generated(70, (i, l) => (i === 35 ? `${l},9` : l)), { maxRaggedRatio: 0.05 }],
  ['too many ragged rows', generated(70, (i, l) => (i % 10 === 0 ? l.replace(/,[^,]*$/, '') : l))],
  ['non-numeric and missing values', generated(70, (i, l) => (i % 7 === 0 ? l.replace(/,[^,]*$/, ',abc') : i % 5 === 0 ? l.replace(/,[^,]*,/, ',NA,') : i % 11 === 0 ? l.replace(/,[^,]*$/, ',') : l))],
  ['mixed time zones, the minority in a later chunk', generated(70, (i, l) => (i >= 50 && i % 2 === 0 ? l.replace(/^[^,]+/, iso(i).replace('T', ' ').replace('.000Z', '')) : l))],
  ['mixed time zones, mostly naive', generated(70, (i, l) => (i >= 3 ? l.replace(/^[^,]+/, iso(i).replace('T', ' ').replace('.000Z', '')) : l))],
  ['blank lines, a whole chunk of them, and before the header', `\n \n${generated(70, (i, l) => (i >= 28 && i < 42 ? '' : i === 0 || i === 69 ? `\n${l}` : l))}`],
  ['\\r\\n line ends and no last newline', generated(70, (i, l) => (i === 30 ? l.replace(/,[^,]*$/, ',x') : l)).replaceAll('\n', '\r\n').slice(0, -2)],
  ['a declared schema', generated(70, (i, l) => (i === 40 ? 'bad,1,2' : l)), { schema: { timestampColumn: 'timestamp', sensorColumns: [{ name: 'b' }] }, maxBadTimestampRatio: 0.5 }],
  ['a header only', 'timestamp,a,b\n'],
  ['a header and blank lines only', 'timestamp,a,b\n\n\n \n\n\n\n\n'],
  [
    'JSON Lines with broken and blank lines at chunk starts',
    Array.from({ length: 70 }, (_, i) =>
      at.has(i) && i % 2 === 0 ? '{"time": broken' : at.has(i) ? '' : JSON.stringify({ time: iso(i % 30 === 29 ? i - 3 : i), temp: i % 13 === 0 ? 'hot' : i / 2, ...(i % 4 === 0 ? {} : { flow: i }) }),
    ).join('\n') + '\n',
    { maxRaggedRatio: 0.2 },
  ],
  ['JSON Lines of blank lines only', '\n\n  \n\n\n\n\n\n\n'],
  ['row errors over the cap', generated(70, (i, l) => (i % 3 === 0 ? l.replace(/,[^,]*$/, ',?x') : l)), { maxRowErrors: 5 }],
  ['row errors and a cap of 0', generated(70, (i, l) => (i % 20 === 0 ? l.replace(/,[^,]*$/, ',?x') : l)), { maxRowErrors: 0 }],
  ['row errors exactly at the cap', generated(70, (i, l) => (i % 14 === 0 ? l.replace(/,[^,]*$/, ',?x') : l)), { maxRowErrors: 5 }],
];

describe('validation of a file in chunks, merged', () => {
  describe.each(FILES)('%s', (_name, text, options = {}) => {
    it.each([1, 2, 3, 7])('in %i chunks equals the whole-file report', async (n) => {
      const whole = await validateDataset(chunked(text, 4096), options);
      expect(await validateInChunks(text, n, options)).toStrictEqual(whole);
    });
  });

  it('covers what it claims: errors, truncation and out-of-order rows at boundaries', async () => {
    const [, ooo] = FILES[2];
    const whole = await validateDataset(chunked(ooo, 4096));
    expect(whole.outOfOrderRows).toBe(at.size);
    const merged = await validateInChunks(FILES[18][1], 7, { maxRowErrors: 5 });
    expect(merged).toMatchObject({ rowErrorsTruncated: true, counts: { nonNumericValues: 24 } });
    expect(merged.rowErrors.map((e) => e.line)).toEqual([2, 5, 8, 11, 14]);
    const json = await validateInChunks(FILES[16][1], 7, { maxRaggedRatio: 0.2 });
    expect(json.rowErrors.filter((e) => e.code === 'INVALID_JSON').length).toBeGreaterThan(0);
    expect(json.counts.blankLines).toBeGreaterThan(0);
    const mixed = await validateInChunks(FILES[9][1], 3);
    expect(mixed.fatalErrors).toEqual([expect.objectContaining({ code: 'MIXED_TIMEZONES', line: 52 })]);
  });

  it('gives a fatal read problem in a later chunk with its line in the file', async () => {
    const lines = generated(70, (i, l) => (i === 55 ? `${l}${'9'.repeat(3000)}` : l));
    const merged = await validateInChunks(lines, 3, { maxLineBytes: 1024 });
    const whole = await validateDataset(chunked(lines, 4096), { maxLineBytes: 1024 });
    expect(merged.fatalErrors).toEqual([expect.objectContaining({ code: 'LINE_TOO_LONG', line: 57 })]);
    expect(merged.fatalErrors).toEqual(whole.fatalErrors);
    expect(merged.valid).toBe(false);

    const latin1 = Buffer.from(generated(70, (i, l) => (i === 60 ? `${l} \xb0C` : l)), 'latin1').toString('latin1');
    const bytes = Buffer.from(latin1, 'latin1');
    const m = memory(bytes);
    const p = await planChunks({ size: bytes.length, chunkBytes: 700, haloBytes: 0 }, m.read);
    const merger = new ValidationMerger();
    const schema = (await validateDataset(chunked(csv(5, ['a', 'b'], (i) => i), 4096))).schema;
    for (const c of p.chunks) merger.add(await validatePartial(chunkSource(m.read, p, c, 'own'), { schema, chunk: { index: c.index, format: p.format } }));
    expect(merger.finish().fatalErrors).toEqual([expect.objectContaining({ code: 'INVALID_ENCODING', line: 62 })]);
  });

  it('refuses partials out of file order', async () => {
    const merger = new ValidationMerger();
    const p = await validatePartial(chunked('timestamp,a\n2024-01-01T00:00:00Z,1\n'), { chunk: { index: 1, format: 'csv' } });
    expect(() => merger.add(p)).toThrow(/file order/);
    expect(() => new ValidationMerger().finish()).toThrow();
  });
});

function memory(bytes: Buffer) {
  return { read: (start: number, end: number) => Promise.resolve(new Uint8Array(bytes.subarray(start, end))) };
}

describe('validation of planned chunks, merged', () => {
  it.each([2, 3, 7])('equals the whole-file report with %i chunks from planChunks and chunkSource', async (n) => {
    for (const [, text, options = {}] of [FILES[0], FILES[8], FILES[12], FILES[16]]) {
      const bytes = Buffer.from(text);
      const m = memory(bytes);
      const plan = await planChunks({ size: bytes.length, chunkBytes: Math.ceil(bytes.length / n), haloBytes: 100 }, m.read);
      const opts = await chunkOptions(text, options);
      const merger = new ValidationMerger(options);
      for (const c of plan.chunks) {
        const p = await validatePartial(chunkSource(m.read, plan, c, 'own', { pieceBytes: 1000 }), { ...opts, chunk: { index: c.index, format: plan.format } });
        merger.add(JSON.parse(JSON.stringify(p)) as ValidationPartial);
      }
      expect(merger.finish()).toStrictEqual(await validateDataset(chunked(text, 4096), options));
    }
  });
});
