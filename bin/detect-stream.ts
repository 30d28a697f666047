/**
 * telltale detect for the multivariate detectors, in memory that does not grow with the file: the
 * leading rows are read to choose the features and fit the model, then the file is read again in
 * blocks of whole lines, scored on worker threads (each block with the lines its causal windows
 * reach back to) and written in input order as the blocks come back.
 */
import { open, rm } from 'node:fs/promises';
import { defaultTrainRows, type DetectMode } from '../shared/ml/api/detect.js';
import { cellText, CsvShapeError, nextContext, parseCsvChunk, type CsvLayout } from '../shared/ml/batch/csv-chunk.js';
import { contextRows, type CsvJobResult, type CsvScoring } from '../shared/ml/batch/score-csv.js';
import { labelFeatures } from '../shared/ml/features.js';
import { fitDetector, type DetectorOptions, type Matrix } from '../shared/ml/multivariate/index.js';
import { csvBlocks, featureColumns, ReadBuffers, featureTable, notANumber, readCsv, readCsvHead, type CsvHead, type NonNumber } from './csv.js';
import { CliError, usageError } from './errors.js';
import { listOption, optionalString, required, type Values } from './options.js';
import { chunkScorer, type ChunkScorer } from './score-pool.js';

export interface StreamedDetect {
  /** Resolved: the defaults or a named family's settings, with the command line's options. */
  options: DetectorOptions;
  mode: DetectMode;
  trainRows?: number;
  threads: number;
  output: string;
}

export interface DetectSummary {
  featureNames: string[];
  fitted: string;
  rows: number;
  labelled: number;
}

/** Blocks read ahead of the one written next, per scoring thread. */
const IN_FLIGHT_PER_THREAD = 4;

/** Scored blocks waiting to be written before this thread waits for the disk. */
const MAX_QUEUED_WRITES = 8;

/** Rows read to decide which columns are numeric features, when the training rows are fewer. */
const SAMPLE_ROWS = 10_000;

/** The leading data rows, every column but the timestamp parsed (NaN where a cell is not a number). */
interface LeadingRows {
  rows: number;
  /** rows x (header width - 1), row-major. */
  data: Float64Array;
  /** Byte offset of each row's line in the file. */
  starts: Float64Array;
  /** The whole file was read. */
  complete: boolean;
  nonNumber: (NonNumber | undefined)[];
}

const shapeError = (head: CsvHead, line: number, fields: number) => new CliError(`${head.path} line ${line + 2} has ${fields} fields, the header has ${head.header.length}`);

async function readLeadingRows(head: CsvHead, maxRows: number): Promise<LeadingRows> {
  const width = head.header.length;
  const layout: CsvLayout = { delimiter: head.delimiter, width, columns: Array.from({ length: width - 1 }, (_, c) => c + 1) };
  const p = width - 1;
  let data = new Float64Array(0);
  let starts = new Float64Array(0);
  let rows = 0;
  let lines = 0;
  const nonNumber: (NonNumber | undefined)[] = new Array(width).fill(undefined);
  for await (const block of csvBlocks(head.path, head.bodyOffset)) {
    let chunk;
    try {
      chunk = parseCsvChunk(block.bytes, layout);
    } catch (error) {
      if (error instanceof CsvShapeError) throw shapeError(head, lines + error.line, error.fields);
      throw error;
    }
    const take = Math.min(chunk.rows, maxRows - rows);
    if (data.length < (rows + take) * p) {
      const grown = new Float64Array(Math.max(2 * data.length, (rows + take) * p));
      grown.set(data);
      data = grown;
      const grownStarts = new Float64Array(grown.length / p);
      grownStarts.set(starts);
      starts = grownStarts;
    }
    data.set(chunk.data.subarray(0, take * p), rows * p);
    for (let r = 0; r < take; r++) {
      starts[rows + r] = block.offset + chunk.start[r];
      for (let j = 0; j < p; j++) {
        if (nonNumber[j + 1] === undefined && !Number.isFinite(chunk.data[r * p + j])) nonNumber[j + 1] = { row: rows + r, text: cellText(block.bytes, chunk, r, j + 1, head.delimiter) };
      }
    }
    rows += take;
    lines += chunk.lines;
    if (rows === maxRows && take < chunk.rows) return { rows, data, starts, complete: false, nonNumber };
  }
  return { rows, data, starts, complete: true, nonNumber };
}

/** Rows 0..rows-1 of the chosen columns, every cell a number. */
function trainingMatrix(head: CsvHead, sample: LeadingRows, columns: readonly number[], rows: number): Matrix {
  const p = columns.length;
  const width = head.header.length - 1;
  const data = new Float64Array(rows * p);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < p; j++) {
      const v = sample.data[r * width + columns[j] - 1];
      if (!Number.isFinite(v)) throw notANumber(head.path, r, head.header[columns[j]], sample.nonNumber[columns[j]]?.text ?? String(v));
      data[r * p + j] = v;
    }
  }
  return { rows, cols: p, data };
}

export async function scoreCsvFile(values: Values, s: StreamedDetect, log: (m: string) => void): Promise<DetectSummary> {
  // The scoring threads start now: they load their code while the leading rows are read and fitted.
  const buffers = new ReadBuffers();
  const scorer = chunkScorer(s.threads, (body) => buffers.give(body));
  try {
    return await fitAndScore(values, s, scorer, buffers, log);
  } finally {
    await scorer.close();
  }
}

async function fitAndScore(values: Values, s: StreamedDetect, scorer: ChunkScorer, buffers: ReadBuffers, log: (m: string) => void): Promise<DetectSummary> {
  const head = await readCsvHead(required(values, 'input'));
  const features = listOption(values, 'features');
  const named = labelFeatures(features ?? [], undefined);
  if (named.length > 0) throw usageError(`${named.join(', ')}: label columns are never features; leave them out of --features`);
  const labels = labelFeatures(head.header.slice(1), undefined);
  if (!features && labels.length > 0) log(`leaving out label column(s) ${labels.join(', ')}: labels are never features`);
  const trainPath = optionalString(values, 'train');
  // Fitting on every row (batch mode's default) needs them all; otherwise the leading rows decide.
  const fitsAll = s.mode === 'batch' && s.trainRows === undefined && trainPath === undefined;
  const sample = await readLeadingRows(head, fitsAll ? Number.MAX_SAFE_INTEGER : Math.max(SAMPLE_ROWS, (s.trainRows ?? 0) + 1));
  if (sample.rows === 0) throw new CliError(`${head.path} has a header but no data rows`);
  const columns = featureColumns(head, { features, ignore: [...new Set([...(listOption(values, 'ignore') ?? []), ...labels])] }, (c) => sample.nonNumber[c], log);
  const featureNames = columns.map((c) => head.header[c]);
  const known = sample.complete ? sample.rows : Number.POSITIVE_INFINITY;
  if (s.trainRows !== undefined && s.trainRows > known) throw new CliError(`--train-rows ${s.trainRows} is more than the ${known} rows of the input`);
  const trainRows = s.trainRows ?? (s.mode === 'batch' ? known : defaultTrainRows(known));
  const train = trainPath ? featureTable(readCsv(trainPath), { features: featureNames }).matrix : trainingMatrix(head, sample, columns, Math.min(trainRows, sample.rows));
  const detector = fitDetector(train, { ...s.options, featureNames });
  // In streaming mode the rows learnt from are warm-up: score 0, label 0.
  const warmUp = s.mode === 'streaming' && !trainPath;
  const scoredFromOffset = !warmUp ? 0 : trainRows < sample.rows ? sample.starts[trainRows] : Number.MAX_SAFE_INTEGER;
  const scoring: CsvScoring = { detector, layout: { delimiter: head.delimiter, width: head.header.length, columns }, scoredFromOffset };
  // A separate training file comes before the input in time: its last rows seed the causal windows.
  scorer.begin(scoring);
  const totals = await scoreBlocks(head, scoring, { scorer, buffers }, s, trainPath ? contextLines(train, scoring) : new Uint8Array(0));
  return { featureNames, fitted: trainPath ? `${train.rows} rows of ${trainPath}` : `the first ${trainRows} rows`, ...totals };
}

/** The last rows of a training matrix as lines of the input's layout (feature cells only; the others 0), to stand before its first block. */
function contextLines(train: Matrix, { detector, layout }: CsvScoring): Uint8Array {
  const rows = Math.min(train.rows, contextRows(detector));
  const lines: string[] = [];
  for (let r = train.rows - rows; r < train.rows; r++) {
    const cells = new Array<string>(layout.width).fill('0');
    layout.columns.forEach((c, j) => (cells[c] = String(train.data[r * train.cols + j])));
    lines.push(cells.join(layout.delimiter));
  }
  return new TextEncoder().encode(lines.map((l) => `${l}\n`).join(''));
}

/** Pass two: every block scored (in parallel) and written in order; on a refusal nothing is left behind. */
async function scoreBlocks(head: CsvHead, scoring: CsvScoring, { scorer, buffers }: { scorer: ChunkScorer; buffers: ReadBuffers }, { output, threads }: StreamedDetect, seed: Uint8Array): Promise<{ rows: number; labelled: number }> {
  let out;
  try {
    out = await open(output, 'w');
  } catch (error) {
    throw new CliError(`cannot write ${output}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const file = out;
  const totals = { rows: 0, lines: 0, labelled: 0 };
  const inFlight: Promise<CsvJobResult>[] = [];
  // Writes run one after another behind this thread's back: it goes on reading and scoring meanwhile.
  let writing: Promise<unknown> = Promise.resolve();
  let queuedWrites = 0;
  const write = async (bytes: Uint8Array) => {
    queuedWrites++;
    writing = writing.then(() => file.write(bytes)).finally(() => queuedWrites--);
    // Awaited at the end (or when too many wait); a failure must not go unhandled meanwhile.
    writing.catch(() => undefined);
    if (queuedWrites > MAX_QUEUED_WRITES) await writing;
  };
  const writeNext = async () => {
    const r = await inFlight.shift()!;
    if (r.ragged) throw shapeError(head, totals.lines + r.ragged.line, r.ragged.fields);
    if (r.bad) throw notANumber(head.path, totals.rows + r.bad.row, head.header[scoring.layout.columns[r.bad.column]], r.bad.text);
    await write(r.out);
    totals.rows += r.rows;
    totals.lines += r.lines;
    totals.labelled += r.labelled;
  };
  try {
    await write(Buffer.from('timestamp,score,label\n'));
    const keep = contextRows(scoring.detector);
    let context: Uint8Array = seed;
    for await (const block of csvBlocks(head.path, head.bodyOffset, buffers)) {
      const job = { context, body: block.bytes, offset: block.offset };
      context = nextContext(context, block.bytes, keep);
      const result = scorer.score(job);
      // Awaited in order below; a failure of a later block must not go unhandled meanwhile.
      result.catch(() => undefined);
      inFlight.push(result);
      // Room for every worker's queue and the blocks this thread scores meanwhile.
      while (inFlight.length >= IN_FLIGHT_PER_THREAD * threads) await writeNext();
    }
    while (inFlight.length > 0) await writeNext();
    await writing;
    await out.close();
  } catch (error) {
    await writing.catch(() => undefined);
    await out.close();
    await rm(output, { force: true });
    throw error;
  }
  return { rows: totals.rows, labelled: totals.labelled };
}
