import { detectChangePointsOffline, detectChangePointsOnline, type ChangePoint } from '../changepoint/index.js';
import { fitDetector, matrixFromRows, scoreDetector, sliceRows, type DetectorKind, type DetectorOptions, type FittedDetector, type Matrix } from '../multivariate/index.js';
import { detectSeries, SeriesTooShortError, type AnomalyKind } from '../streaming/index.js';
import { ValidationError } from '../../platform/errors.js';
import { defaultDetectorName, multivariateKinds, resolveDetectorOptions, type MultivariateDetectorName } from '../detectors.js';
import { ML_LIMITS, type AnomalySegment, type ChangePointOut, type DetectRequest, type DetectResponse } from './contract.js';
import { epochMillis, isoOf } from './timestamps.js';

export type DetectMode = 'batch' | 'streaming';


/** Points learnt from when the caller does not say: half the data, at least 16, at most 400, and 2.5 seasons when a season is known. */
export function defaultTrainRows(n: number, period = 1): number {
  return Math.min(n, Math.max(16, Math.min(400, Math.floor(n / 2)), period > 1 ? Math.ceil(2.5 * period) : 0));
}

export interface MatrixScoring {
  /** The family; none named means the defaults (defaultDetectorOptions). */
  detector?: DetectorKind;
  mode: DetectMode;
  featureNames: string[];
  sensitivity?: number;
  /** Fit on the first N rows (default: all rows in batch mode, defaultTrainRows in streaming mode). */
  trainRows?: number;
  /** Or fit on these rows (another file); every row of the input is then scored. */
  train?: Matrix;
  options?: Pick<DetectorOptions, 'inputWindow' | 'scoreWindow' | 'driftHorizon' | 'targetFalseAlarmRate' | 'slowFeatures' | 'calibrationFolds' | 'tail'>;
}

export interface MatrixScores {
  scores: Float64Array;
  labels: Uint8Array;
  /** rows x features shares, row-major. */
  contributions: Float64Array;
  threshold: number;
  trainRows: number;
  /** Rows before this one were only learnt from (streaming mode): score 0, label 0. */
  scoredFrom: number;
  model: FittedDetector;
}

/**
 * Fits a multivariate detector and scores every row in time order. The detectors' trailing windows are
 * causal, so in streaming mode a row's score depends only on the rows up to it: the rows the model was
 * fitted on are warm-up and get score 0.
 */
export function scoreMatrix(rows: Matrix, s: MatrixScoring): MatrixScores {
  const trainRows = s.train ? s.train.rows : (s.trainRows ?? (s.mode === 'batch' ? rows.rows : defaultTrainRows(rows.rows)));
  const train = s.train ?? sliceRows(rows, 0, Math.min(trainRows, rows.rows));
  const model = fitDetector(train, resolveDetectorOptions(s.detector, { featureNames: s.featureNames, sensitivity: s.sensitivity, ...s.options }));
  // A separate training file comes before the input in time: its rows seed the causal windows.
  const result = scoreDetector(model, rows, s.train ? scoreDetector(model, s.train).state : undefined);
  const scoredFrom = s.train || s.mode === 'batch' ? 0 : Math.min(trainRows, rows.rows);
  result.scores.fill(0, 0, scoredFrom);
  result.labels.fill(0, 0, scoredFrom);
  return { scores: result.scores, labels: result.labels, contributions: result.contributions, threshold: model.calibration.threshold, trainRows, scoredFrom, model };
}

export interface SeriesScoring {
  mode: DetectMode;
  sensitivity?: number;
  trainRows?: number;
  period?: number;
}

/** The streaming detector over a whole series: causal in streaming mode, fitted on the first trainRows then replayed in batch mode. */
export function scoreSeries(values: readonly number[], s: SeriesScoring) {
  const n = values.length;
  if (s.period !== undefined && n < 2 * s.period) throw new SeriesTooShortError('series', n, 2 * s.period, `for two seasons of ${s.period} points`);
  // A flat warm-up is accepted: the detector gives it the scale of its decimal step, so any departure is news.
  const trainRows = s.trainRows ?? defaultTrainRows(n, s.period);
  const result = detectSeries(values, { sensitivity: s.sensitivity, warmup: trainRows, period: s.period, twoPass: s.mode === 'batch' });
  const scoredFrom = s.mode === 'batch' ? 0 : Math.min(n, Math.max(16, trainRows));
  return { ...result, trainRows: Math.min(n, Math.max(16, trainRows)), scoredFrom };
}

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;
const significant = (x: number): number => Number(x.toPrecision(8));

interface SegmentExplanation {
  kind: AnomalyKind | null;
  contributions: { feature: string; share: number }[];
}

/** Runs of consecutive labelled points, each with its peak and what drove it; lists the first ML_LIMITS.listed. */
export function segmentsOf(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>, at: (index: number) => string, explain: (start: number, end: number, peak: number) => SegmentExplanation) {
  const segments: AnomalySegment[] = [];
  let count = 0;
  for (let i = 0; i < labels.length; i++) {
    if (!labels[i]) continue;
    let end = i;
    let peak = i;
    while (end + 1 < labels.length && labels[end + 1]) {
      end++;
      if (scores[end] > scores[peak]) peak = end;
    }
    count++;
    if (segments.length < ML_LIMITS.listed) {
      segments.push({ start: at(i), end: at(end), startIndex: i, endIndex: end, peak: at(peak), peakIndex: peak, peakScore: round6(scores[peak]), ...explain(i, end, peak) });
    }
    i = end;
  }
  return { segments, count };
}

/** Mean contribution share of each feature over rows start..end, largest first, the top 10. */
export function segmentContributions(shares: Float64Array, featureNames: readonly string[], start: number, end: number) {
  const p = featureNames.length;
  const sums = new Float64Array(p);
  for (let r = start; r <= end; r++) for (let c = 0; c < p; c++) sums[c] += shares[r * p + c];
  return featureNames
    .map((feature, c) => ({ feature, share: Math.round((sums[c] / (end - start + 1)) * 1e4) / 1e4 }))
    .sort((a, b) => b.share - a.share)
    .slice(0, 10);
}

const changePointOut = (feature: string, c: ChangePoint, at: (index: number) => string): ChangePointOut => ({
  feature,
  index: c.index,
  timestamp: at(c.index),
  before: significant(c.before),
  after: significant(c.after),
  magnitude: significant(c.magnitude),
  magnitudeSigma: round6(c.magnitudeSigma),
});

function listed(changes: ChangePointOut[]) {
  changes.sort((a, b) => a.index - b.index || a.feature.localeCompare(b.feature));
  return { changePoints: changes.slice(0, ML_LIMITS.listed), changePointCount: changes.length };
}

/**
 * POST /ml/detect on inline data. A series runs the streaming detector (batch: fitted on the first
 * trainRows points and replayed over all; streaming: causal) plus change points (batch: PELT;
 * streaming: online CUSUM). A matrix runs a multivariate family with per-feature contributions and
 * online change points per feature. (A dataset by id is read first: detectInDataset.)
 */
export function detectAnomalies(request: DetectRequest): DetectResponse {
  if (request.series) {
    const times = epochMillis(
      request.series.map((p) => p.timestamp),
      (i) => `body.series.${i}.timestamp`,
    );
    return detectInSeries(request, times, request.series.map((p) => p.value));
  }
  const input = request.matrix!;
  const times = epochMillis(input.timestamps, (i) => `body.matrix.timestamps.${i}`);
  return detectInMatrix(request, times, input.features, matrixFromRows(input.rows));
}

/** The options of a request that apply to the scoring, whatever the input form. */
export type DetectSettings = Pick<DetectRequest, 'mode' | 'detector' | 'sensitivity' | 'trainRows' | 'period' | 'options'>;

/** Scores one series of strictly increasing epoch-ms timestamps. */
export function detectInSeries(request: DetectSettings, times: readonly number[], values: readonly number[], feature = 'value'): DetectResponse {
  const at = (i: number) => isoOf(times[i]);
  const result = scoreSeries(values, { mode: request.mode, sensitivity: request.sensitivity, trainRows: request.trainRows, period: request.period });
  const points = result.points;
  const scores = points.map((p) => round6(p.score));
  const labels = points.map((p) => p.label);
  const { segments, count } = segmentsOf(scores, labels, at, (_start, _end, peak) => ({ kind: points[peak].kind, contributions: [{ feature, share: 1 }] }));
  const changes = request.mode === 'batch' ? detectChangePointsOffline(values, { timestamps: times }) : detectChangePointsOnline(values, {}, times);
  return {
    kind: 'univariate',
    detector: 'streaming',
    mode: request.mode,
    features: [feature],
    trainRows: result.trainRows,
    scoredFrom: result.scoredFrom,
    threshold: round6(result.threshold),
    period: result.period,
    points: {
      scores,
      labels,
      expected: points.map((p) => significant(p.expected)),
      lower: points.map((p) => significant(p.lower)),
      upper: points.map((p) => significant(p.upper)),
    },
    segments,
    segmentCount: count,
    ...listed(changes.map((c) => changePointOut(feature, c, at))),
  };
}

/** Scores rows (one per strictly increasing epoch-ms timestamp) of named features. */
export function detectInMatrix(request: DetectSettings, times: readonly number[], features: string[], rows: Matrix): DetectResponse {
  const at = (i: number) => isoOf(times[i]);
  const name = (request.detector ?? defaultDetectorName) as MultivariateDetectorName;
  const detector = multivariateKinds[name];
  const named = request.detector === undefined ? undefined : detector;
  if (detector === 'autoencoder') {
    const trainRows = request.trainRows ?? (request.mode === 'batch' ? rows.rows : defaultTrainRows(rows.rows));
    if (trainRows * features.length ** 2 > ML_LIMITS.autoencoderTrainingWork) {
      throw new ValidationError(`Training an autoencoder on ${trainRows} rows of ${features.length} features takes too long for a request; use trainRows or fewer features`, [
        { pointer: 'body.trainRows', message: `At most ${Math.floor(ML_LIMITS.autoencoderTrainingWork / features.length ** 2)} rows for ${features.length} features` },
      ]);
    }
  }
  const scored = scoreMatrix(rows, { detector: named, mode: request.mode, featureNames: features, sensitivity: request.sensitivity, trainRows: request.trainRows, options: request.options });
  const scores = Array.from(scored.scores, round6);
  const labels = Array.from(scored.labels, (l) => l === 1);
  const { segments, count } = segmentsOf(scores, labels, at, (start, end) => ({ kind: null, contributions: segmentContributions(scored.contributions, features, start, end) }));
  const changes: ChangePointOut[] = [];
  const column = new Array<number>(rows.rows);
  features.forEach((feature, c) => {
    for (let r = 0; r < rows.rows; r++) column[r] = rows.data[r * rows.cols + c];
    for (const change of detectChangePointsOnline(column, {}, times)) changes.push(changePointOut(feature, change, at));
  });
  return {
    kind: 'multivariate',
    detector: name,
    mode: request.mode,
    features,
    trainRows: scored.trainRows,
    scoredFrom: scored.scoredFrom,
    threshold: round6(scored.threshold),
    points: { scores, labels },
    segments,
    segmentCount: count,
    ...listed(changes),
  };
}
