import { describe, expect, it } from 'vitest';
import { nextContext, parseCsvChunk, parseNumber, rowArrays } from '../../../../shared/ml/batch/csv-chunk.js';
import { contextRows, formatScores, scoreCsvJob, type CsvScoring } from '../../../../shared/ml/batch/score-csv.js';
import { fitDetector, scoreDetector, type DetectorKind, type DetectorOptions, type Matrix } from '../../../../shared/ml/multivariate/index.js';
import { createGaussian, createRng } from '../../../../shared/ml/multivariate/rng.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Three sensors, the second slowly drifting (a slow feature), with a fault on the third after row 700. */
function plant(rows: number): { csv: string; matrix: Matrix; stamps: string[] } {
  const g = createGaussian(createRng(7));
  const data = new Float64Array(rows * 3);
  const stamps: string[] = [];
  const lines = ['time,a,b,c'];
  for (let r = 0; r < rows; r++) {
    const x = g();
    const cells = [x, 20 + r / 50 + 0.01 * g(), 0.8 * x + 0.2 * g() + (r > 700 && r < 760 ? 2 : 0)].map((v) => v.toFixed(4));
    cells.forEach((c, j) => (data[r * 3 + j] = Number(c)));
    stamps.push(new Date(Date.UTC(2026, 0, 1, 0, 0, r)).toISOString());
    lines.push([stamps[r], ...cells].join(','));
    // A blank line now and then: skipped, never a row.
    if (r % 97 === 0) lines.push('');
  }
  return { csv: `${lines.join('\n')}\n`, matrix: { rows, cols: 3, data }, stamps };
}

/** Scores the CSV's data lines in chunks of `linesPerChunk` lines, as the CLI does, each with the context the last ones leave. */
function scoreInChunks(scoring: CsvScoring, body: Uint8Array, linesPerChunk: number): string {
  const out: string[] = [];
  let context: Uint8Array = new Uint8Array(0);
  let start = 0;
  while (start < body.length) {
    let end = start;
    for (let k = 0; k < linesPerChunk && end < body.length; k++) end = body.indexOf(10, end) + 1 || body.length;
    const chunk = body.slice(start, end);
    const result = scoreCsvJob(scoring, { context, body: chunk, offset: start });
    out.push(text(result.out));
    context = nextContext(context, chunk, contextRows(scoring.detector));
    start = end;
  }
  return out.join('');
}

describe('batch scoring of a CSV in chunks', () => {
  const { csv, matrix, stamps } = plant(1000);
  const body = bytes(csv.slice(csv.indexOf('\n') + 1));
  const every: DetectorOptions[] = (['pca', 'iforest', 'mset'] as DetectorKind[]).map((detector) => ({
    detector,
    inputWindow: 5,
    scoreWindow: 9,
    slowFeatures: { lag: 30 },
    driftHorizon: 100,
    targetFalseAlarmRate: 0.02,
    sensitivity: 60,
  }));

  it.each(every)('equals scoring the whole series at once, whatever the chunk size ($detector, every option)', (options) => {
    const detector = fitDetector({ rows: 300, cols: 3, data: matrix.data.slice(0, 900) }, options);
    expect(detector.slow?.features).toEqual([1]);
    expect(contextRows(detector)).toBe(4 + 30 + 8);
    const whole = scoreDetector(detector, matrix);
    const expected = stamps.map((t, r) => `${t},${whole.scores[r].toFixed(6)},${whole.labels[r]}\n`).join('');
    const scoring: CsvScoring = { detector, layout: { delimiter: ',', width: 4, columns: [1, 2, 3] }, scoredFromOffset: 0 };
    // Chunks shorter than the context (10 lines), about as long (43), and longer (256), and the whole body at once.
    for (const lines of [10, 43, 256, 5000]) expect(scoreInChunks(scoring, body, lines)).toBe(expected);
  });

  it('gives the rows before the scored-from offset score 0 and label 0 (streaming warm-up)', () => {
    const detector = fitDetector({ rows: 300, cols: 3, data: matrix.data.slice(0, 900) }, { detector: 'pca' });
    const warmUp = scoreCsvJob({ detector, layout: { delimiter: ',', width: 4, columns: [1, 2, 3] }, scoredFromOffset: text(body).indexOf(stamps[300]) }, { context: new Uint8Array(0), body, offset: 0 });
    const lines = text(warmUp.out).trim().split('\n');
    expect(lines.slice(0, 300).every((l) => l.endsWith(',0.000000,0'))).toBe(true);
    expect(lines.slice(300).some((l) => !l.endsWith(',0.000000,0'))).toBe(true);
  });

  it('reports the first cell that is not a number, and a line with the wrong number of fields, by position in the chunk', () => {
    const detector = fitDetector({ rows: 300, cols: 3, data: matrix.data.slice(0, 900) }, { detector: 'pca' });
    const scoring: CsvScoring = { detector, layout: { delimiter: ',', width: 4, columns: [1, 2, 3] }, scoredFromOffset: 0 };
    const job = (t: string) => scoreCsvJob(scoring, { context: new Uint8Array(0), body: bytes(t), offset: 0 });
    expect(job('t1,1,2,3\n\nt2,1,,3\n').bad).toEqual({ row: 1, column: 1, text: '' });
    expect(job('t1,1,2,3\nt2,1,x2,3\n').bad).toEqual({ row: 1, column: 1, text: 'x2' });
    expect(job('t1,1,2,3\n\nt2,1,2\n').ragged).toEqual({ line: 2, fields: 3 });
    expect(job('t1,1,2,3\nt2,"1",2,3,4\n').ragged).toEqual({ line: 1, fields: 5 });
    // A quoted delimiter is no field break.
    expect(job('t1,1,2,3\nt2,"1,5",2,3\n').bad).toEqual({ row: 1, column: 0, text: '1,5' });
  });

  it('writes each score as toFixed(6) would, and the label', () => {
    const rng = createRng(5);
    const scores = [0, 1, 0.5, 0.0000005, 0.0000015, 0.9999995, 0.999999, 0.001, 0.123456789, 0.0009995, 0.5004995];
    for (let i = 0; i < 5000; i++) scores.push(i % 2 === 0 ? rng() : Math.round(rng() * 1e6) / 1e6 + (rng() - 0.5) * 1e-9);
    const chunk = parseCsvChunk(bytes(scores.map((_, r) => `t${r},1\n`).join('')), { delimiter: ',', width: 2, columns: [1] });
    const labels = scores.map((_, r) => r % 3 === 0 ? 1 : 0);
    const expected = scores.map((x, r) => `t${r},${x.toFixed(6)},${labels[r]}\n`).join('');
    expect(text(formatScores(bytes(scores.map((_, r) => `t${r},1\n`).join('')), chunk, ',', scores, labels))).toBe(expected);
  });

  it('writes timestamps as they came, quoting one only when it holds a comma', () => {
    const detector = fitDetector({ rows: 300, cols: 3, data: matrix.data.slice(0, 900) }, { detector: 'pca' });
    const scoring: CsvScoring = { detector, layout: { delimiter: ';', width: 4, columns: [1, 2, 3] }, scoredFromOffset: 0 };
    const result = scoreCsvJob(scoring, { context: new Uint8Array(0), body: bytes('01.01.2026 00:00,5;0.1;20;0\r\n"q""t";0.1;20;0\n2026-01-01;0.1;20;0'), offset: 0 });
    expect(text(result.out).split('\n').map((l) => l.split(/,(?=[\d.]+,[01]$)/)[0])).toEqual(['"01.01.2026 00:00,5"', '"q""t"', '2026-01-01', '']);
    expect(result.rows).toBe(3);
  });
});

describe('parsing numbers from bytes', () => {
  const asParsed = (cell: string) => {
    const b = bytes(cell);
    return parseNumber(b, 0, b.length);
  };

  it('gives exactly what Number() gives, on the fast path and off it', () => {
    const rng = createRng(11);
    const cells = ['0', '-0', '+5', '.5', '5.', '1e5', '1E-5', '-1.5e+3', '0.1', '0.3', '123456789012345', '1234567890123456789', '1.7976931348623157e308', '5e-324', ' 7 ', '0x1A', 'Infinity', '1e', '.', '-', '12a', '1.2.3', '00012.5000'];
    for (let i = 0; i < 2000; i++) {
      const digits = Math.floor(rng() * 18);
      cells.push(`${rng() < 0.5 ? '-' : ''}${(rng() * 10 ** (digits - 6)).toFixed(Math.floor(rng() * 12))}${rng() < 0.2 ? `e${Math.floor(rng() * 60) - 30}` : ''}`);
    }
    for (const cell of cells) expect(Object.is(asParsed(cell), Number(cell)), cell).toBe(true);
  });

  it('gives what Number() gives for cells parsed within lines (the inline common case and the rest)', () => {
    const rng = createRng(12);
    const cells = ['0', '-0', '5.', '.5', '+5', '1e5', '-1.5e+3', '123456789', '1234567890', '-999999999', '0.000000001', '12.3456789', '00012.5000', ' 7', '-', '12a'];
    for (let i = 0; i < 2000; i++) cells.push(`${rng() < 0.5 ? '-' : ''}${(rng() * 10 ** Math.floor(rng() * 8)).toFixed(Math.floor(rng() * 9))}`);
    // Each cell in the middle of a line and at its end.
    const chunk = parseCsvChunk(bytes(cells.map((c) => `t,${c},${c}\n`).join('')), { delimiter: ',', width: 3, columns: [1, 2] });
    expect(chunk.rows).toBe(cells.length);
    cells.forEach((cell, r) => {
      const expected = cell.trim() === '' ? Number.NaN : Number(cell);
      expect([Object.is(chunk.data[2 * r], expected), Object.is(chunk.data[2 * r + 1], expected)], cell).toEqual([true, true]);
    });
  });

  it('parses a chunk into rows of the chosen columns, NaN for blanks and text', () => {
    const chunk = parseCsvChunk(bytes('t1,1,x,3\r\n  \nt2,,2.5,-4e2\nt3,1,2,3'), { delimiter: ',', width: 4, columns: [3, 1] });
    expect(chunk.rows).toBe(3);
    expect(Array.from(chunk.data)).toEqual([3, 1, -400, Number.NaN, 3, 1]);
    expect(Array.from(chunk.line.subarray(0, 3))).toEqual([0, 2, 3]);
    expect(chunk.lines).toBe(4);
  });

  it('parses into arrays kept from call to call as it does into new ones', () => {
    const layout = { delimiter: ',' as const, width: 3, columns: [2, 1] };
    const lines = (n: number, k: number) => bytes(Array.from({ length: n }, (_, r) => `t${r},${r * k},${-r}`).join('\n'));
    const reuse = rowArrays(0, 0);
    for (const [n, k] of [[50, 1], [10, 2], [400, 3], [5, 4]]) {
      const fresh = parseCsvChunk(lines(n, k), layout);
      const kept = parseCsvChunk(lines(n, k), layout, reuse);
      expect(Array.from(kept.data)).toEqual(Array.from(fresh.data));
      expect([kept.start, kept.stampStart, kept.stampEnd, kept.line].map((a) => Array.from(a.subarray(0, n)))).toEqual([fresh.start, fresh.stampStart, fresh.stampEnd, fresh.line].map((a) => Array.from(a.subarray(0, n))));
    }
    expect(reuse.start.length).toBeGreaterThanOrEqual(400);
  });

  it('takes more rows than the length of the first line suggests', () => {
    const lines = [`${'t'.repeat(500)},1,2`, ...Array.from({ length: 300 }, (_, r) => `${r},${r},-${r}`)];
    const chunk = parseCsvChunk(bytes(lines.join('\n')), { delimiter: ',', width: 3, columns: [1, 2] });
    expect(chunk.rows).toBe(301);
    expect(Array.from(chunk.data.subarray(600))).toEqual([299, -299]);
    expect([chunk.stampEnd[300] - chunk.stampStart[300], chunk.line[300], chunk.start[300]]).toEqual([3, 300, lines.join('\n').lastIndexOf('\n') + 1]);
  });
});
