/**
 * Batch scoring of a CSV in chunks, each independent of the others so chunks can be scored on any
 * thread in any order: a chunk carries the lines before it that its causal windows reach back to
 * (the detector's `contextRows`), and its scores equal those of scoring the whole file at once.
 */
import { csvField } from '../../data/csv-field.js';
import { calibrateAll } from '../calibration.js';
import { detectorInputs, rawScores, trailingMean, type FittedDetector } from '../multivariate/index.js';
import { isPcaDetector, pcaSmoothedRaw } from './pca-rows.js';
import { cellText, CsvShapeError, parseCsvChunk, rowArrays, type CsvChunk, type CsvLayout } from './csv-chunk.js';

/** Rows before a row that its score depends on: the input window, the slow features' lag and the score window. */
export function contextRows(detector: FittedDetector): number {
  return detector.inputWindow - 1 + (detector.slow?.lag ?? 0) + detector.scoreWindow - 1;
}

/**
 * Scores and labels of rows `context` onwards of `rows` (row-major, detector.featureNames wide).
 * The same arithmetic as scoreDetector on the whole series, without the contributions nobody reads here.
 */
export function scoreRows(detector: FittedDetector, data: Float64Array, context: number): { scores: Float64Array; labels: Uint8Array } {
  if (isPcaDetector(detector)) return calibrateAll(detector.calibration, pcaSmoothedRaw(detector, data).subarray(context));
  const cols = detector.featureNames.length;
  const inputs = detectorInputs(detector, { rows: data.length / cols, cols, data });
  const raw = trailingMean(rawScores(detector.model, inputs, false).raw, detector.scoreWindow);
  return calibrateAll(detector.calibration, raw.subarray(context));
}

/** Everything a thread needs to score chunks, sent once. */
export interface CsvScoring {
  detector: FittedDetector;
  layout: CsvLayout;
  /** Rows starting before this byte offset of the file were only learnt from (streaming mode): score 0, label 0. */
  scoredFromOffset: number;
}

export interface CsvJob {
  /** Whole lines before the chunk (at most contextRows of them), for the causal windows. */
  context: Uint8Array;
  /** The chunk: whole lines. */
  body: Uint8Array;
  /** The body's byte offset in the file. */
  offset: number;
}

/** A cell that is not a finite number, located within its chunk. */
export interface BadCell {
  row: number;
  column: number;
  text: string;
}

export interface CsvJobResult {
  /** timestamp,score,label lines of the body's rows. */
  out: Uint8Array;
  rows: number;
  lines: number;
  labelled: number;
  /** The first cell of a feature that is not a number: nothing is scored. */
  bad?: BadCell;
  /** The first line with the wrong number of fields (line within the body, from 0): nothing is scored. */
  ragged?: { line: number; fields: number };
}

function firstBadCell(chunk: CsvChunk, buf: Uint8Array, layout: CsvLayout): BadCell | undefined {
  const p = layout.columns.length;
  for (let i = 0; i < chunk.data.length; i++) {
    if (Number.isFinite(chunk.data[i])) continue;
    const row = Math.floor(i / p);
    return { row, column: i - row * p, text: cellText(buf, chunk, row, layout.columns[i - row * p], layout.delimiter) };
  }
  return undefined;
}

const SCORE_BYTES = 8; // "0.123456"
const ONE = new TextEncoder().encode('1.000000');
/** "000" to "999", three bytes each. */
const TRIPLES = new TextEncoder().encode(Array.from({ length: 1000 }, (_, k) => String(k).padStart(3, '0')).join(''));

/**
 * Writes x (in [0, 1]) with six decimals, as x.toFixed(6) would: the integer rounding of x * 1e6 is
 * exact unless the product lies within 1e-6 of a tie, where toFixed itself decides.
 */
function writeScore(out: Uint8Array, at: number, x: number): number {
  const y = x * 1e6;
  const frac = y - Math.floor(y);
  if (!(x >= 0 && x <= 1) || Math.abs(frac - 0.5) < 1e-6) {
    const s = x.toFixed(6);
    for (let k = 0; k < s.length; k++) out[at + k] = s.charCodeAt(k);
    return at + s.length;
  }
  const n = Math.round(y);
  if (n === 1e6) {
    out.set(ONE, at);
    return at + SCORE_BYTES;
  }
  out[at] = 48;
  out[at + 1] = 0x2e;
  // Six digits as two three-digit groups from a table: no division per digit.
  const high = Math.floor(n / 1000);
  const h = 3 * high;
  const l = 3 * (n - 1000 * high);
  out[at + 2] = TRIPLES[h];
  out[at + 3] = TRIPLES[h + 1];
  out[at + 4] = TRIPLES[h + 2];
  out[at + 5] = TRIPLES[l];
  out[at + 6] = TRIPLES[l + 1];
  out[at + 7] = TRIPLES[l + 2];
  return at + SCORE_BYTES;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function holdsComma(buf: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] === 0x2c) return true;
  return false;
}

/** timestamp,score,label lines, the timestamp copied as its bytes (quoted only when it must be). */
export function formatScores(buf: Uint8Array, chunk: CsvChunk, delimiter: string, scores: ArrayLike<number>, labels: ArrayLike<number>): Uint8Array {
  let size = 0;
  for (let r = 0; r < chunk.rows; r++) size += chunk.stampEnd[r] - chunk.stampStart[r] + 16;
  for (const stamp of chunk.quotedStamps.values()) size += 2 * stamp.length * 3 + 2;
  const out = new Uint8Array(size);
  let at = 0;
  // With `,` as the delimiter an unquoted timestamp holds no comma; with `;` it may, and is then quoted.
  const mayHoldComma = delimiter !== ',';
  const anyQuoted = chunk.quotedStamps.size > 0;
  for (let r = 0; r < chunk.rows; r++) {
    const quoted = anyQuoted ? chunk.quotedStamps.get(r) : undefined;
    const from = chunk.stampStart[r];
    const to = chunk.stampEnd[r];
    if (quoted !== undefined || (mayHoldComma && holdsComma(buf, from, to))) {
      at += encoder.encodeInto(csvField(quoted ?? decoder.decode(buf.subarray(from, to))), out.subarray(at)).written;
    } else {
      for (let i = from; i < to; i++) out[at++] = buf[i];
    }
    out[at++] = 0x2c;
    at = writeScore(out, at, scores[r]);
    out[at++] = 0x2c;
    out[at++] = labels[r] ? 49 : 48;
    out[at++] = 0x0a;
  }
  return out.subarray(0, at);
}

// This thread's arrays for the body's rows and the series scored (context then body), kept from job
// to job: a thread scores one job at a time, and allocating them anew for each left tens of MB of
// garbage between collections.
const bodyRows = rowArrays(0, 0);
let series = new Float64Array(0);

/** Scores one chunk: parse the context and the body, score them as one series, format the body's rows. */
export function scoreCsvJob(scoring: CsvScoring, job: CsvJob): CsvJobResult {
  const { detector, layout } = scoring;
  const p = layout.columns.length;
  let body: CsvChunk;
  try {
    body = parseCsvChunk(job.body, layout, bodyRows);
  } catch (error) {
    if (!(error instanceof CsvShapeError)) throw error;
    return { out: new Uint8Array(0), rows: 0, lines: 0, labelled: 0, ragged: { line: error.line, fields: error.fields } };
  }
  const bad = firstBadCell(body, job.body, layout);
  if (bad) return { out: new Uint8Array(0), rows: body.rows, lines: body.lines, labelled: 0, bad };
  const context = job.context.length > 0 ? parseCsvChunk(job.context, layout) : undefined;
  const before = context ? Math.min(context.rows, contextRows(detector)) : 0;
  let data = body.data;
  if (before > 0 && context) {
    if (series.length < (before + body.rows) * p) series = new Float64Array(2 * (before + body.rows) * p);
    data = series.subarray(0, (before + body.rows) * p);
    data.set(context.data.subarray((context.rows - before) * p));
    data.set(body.data, before * p);
  }
  const { scores, labels } = scoreRows(detector, data, before);
  let labelled = 0;
  for (let r = 0; r < body.rows; r++) {
    if (job.offset + body.start[r] < scoring.scoredFromOffset) {
      scores[r] = 0;
      labels[r] = 0;
    }
    labelled += labels[r];
  }
  return { out: formatScores(job.body, body, layout.delimiter, scores, labels), rows: body.rows, lines: body.lines, labelled };
}
