import { assertInRange, InvalidStateError, NonFiniteValueError } from './errors.js';
import type { AnomalyKind, ModelState, StreamingConfig, StreamingPoint, StreamingState } from './state.js';
import { streamingStateSchema } from './state.js';
import { logNormalUpperTail, logPFromScore, normalQuantile, scoreFromLogP } from './stats.js';
import { onsetScore } from './onset.js';
import { ABS_TO_SIGMA, CLIP_SIGMA, fitWarmup } from './warmup.js';

export interface StreamingDetectorOptions {
  /** 0 (fewest alarms) to 100 (most); default 50. */
  sensitivity?: number;
  /** Points buffered before fitting; default 400. Use at least 2.5 seasons (e.g. 720 for a daily cycle of 5-minute data). */
  warmup?: number;
  /** Longest season looked for; default 40 % of warmup. */
  maxPeriod?: number;
  /** A known season length (1 = none); default: detected from the warm-up buffer. */
  period?: number;
}

const LN2 = Math.LN2;
/** CUSUM allowance: tuned to shifts of one calibrated sigma and more. */
const CUSUM_K = 0.5;
/** Calibrated z is capped here inside CUSUM and the variance channel, so one huge spike is one bounded step. */
const Z_CAP = 4;
const SIGMA_RATE = 0.01;
const VAR_SHORT_RATE = 0.1;
const VAR_LONG_RATE = 0.005;
/** One spike makes two large differences; capping each at 9 keeps a lone spike below the variance alarm. */
const VAR_CAP = 9;
/** Level shifts the same way within this many points are read as one trend change. */
const RAMP_MEMORY = 300;
/** Effective degrees of freedom of an EW mean with rate a: (2 - a) / a. */
const VAR_DOF = (2 - VAR_SHORT_RATE) / VAR_SHORT_RATE;
const Q99_RATE = 0.05;
const Z99 = 2.5758;
/** Multiplicative step of the 99.9th percentile: fast enough to learn a heavy tail in a few thousand points. */
const Q999_RATE = 0.1;
/** Above this q999/q99 ratio (normal: 1.277) the tail is heavier than normal and is modelled as exponential. */
const HEAVY_TAIL_RATIO = 1.35;
const BURST_RATIO = 2;
const BOOSTED_GAMMA = 0.5;
const REPEAT_RATE = 0.002;
/** Continuous sensors repeat a value rarely; assume at least this repeat probability so short runs never alarm. */
const MIN_REPEAT = 0.1;
const MAX_REPEAT = 0.999;
/** Channels 0 spike, 1 shift, 2 variance, 3 stuck, most specific first: a gross fault scores 1 on several, the specific one names it. */
const CHANNEL_PRIORITY = [3, 1, 2, 0] as const;

/**
 * Label threshold on the alarm channels' surprise (-log10(p)/10 of the most surprised channel) for a sensitivity:
 * 0 -> 0.9 (tail probability 1e-9 a point), 50 -> 0.6 (1e-6), 100 -> 0.3 (1e-3). Every channel's surprise is a
 * calibrated tail probability, so one threshold serves every series.
 */
function surpriseThreshold(sensitivity: number): number {
  return 0.9 - 0.006 * sensitivity;
}

/**
 * Threshold on the score (the onset likelihood) for a sensitivity: 0 -> 0.4, 50 -> 0.25, 100 -> 0.1.
 * At 50 it is the threshold the window protocol found best on the tuning half of the generated corpus.
 */
export function sensitivityToThreshold(sensitivity: number): number {
  assertInRange('sensitivity', sensitivity, 0, 100);
  return 0.4 - 0.003 * sensitivity;
}

export function resolveConfig(options: StreamingDetectorOptions = {}): StreamingConfig {
  const sensitivity = options.sensitivity ?? 50;
  const warmup = options.warmup ?? 400;
  assertInRange('sensitivity', sensitivity, 0, 100);
  assertInRange('warmup', warmup, 16, 20_000, true);
  const maxPeriod = options.maxPeriod ?? Math.max(2, Math.floor(warmup * 0.4));
  assertInRange('maxPeriod', maxPeriod, 2, Math.min(5_000, Math.floor(warmup / 2)), true);
  if (options.period !== undefined) assertInRange('period', options.period, 1, Math.floor(warmup / 2), true);
  return { sensitivity, warmup, maxPeriod, period: options.period ?? null };
}

/**
 * Causal streaming detector for one univariate sensor. `update(x)` scores x using only earlier points, then learns from it.
 *
 * Model: robust damped Holt-Winters (additive season, Huber-clipped updates) gives the one-step expectation; its residual,
 * scaled by an EW mean absolute deviation and recalibrated by a running 99th percentile of |z|, feeds four channels that
 * each yield a tail probability p under "nothing changed":
 *  - spike: two-sided normal tail of the calibrated z;
 *  - level shift / trend change: two-sided CUSUM of capped z, p = 1 / in-control ARL at the current statistic (Siegmund);
 *  - variance change: short-over-long EW mean of squared residual differences, chi-square tail (Wilson-Hilferty);
 *  - stuck: run of identical values, p = (learned repeat rate)^run.
 * A point is labelled when -log10(min p)/10 (Numenta's log-likelihood transform) reaches the label threshold. A confirmed
 * shift re-bases the level (or trend) and a confirmed variance change rescales the spread, so the new regime becomes
 * normal instead of alarming forever. The score is an onset likelihood built on min p (see onset.ts).
 */
export class StreamingDetector {
  readonly config: StreamingConfig;
  /** Threshold on the score: where an onset is worth an episode. */
  readonly threshold: number;
  /** Threshold on the alarm channels' surprise: where points are labelled (and, with hysteresis, where episodes last). */
  readonly surpriseThreshold: number;
  private readonly bandZ: number;
  private n = 0;
  private buffer: number[] | null = [];
  private m: ModelState | null = null;
  private season = new Float64Array(0);
  // Running mean / M2 of the warm-up buffer (Welford), for the band shown while warming up.
  private wMean = 0;
  private wM2 = 0;

  constructor(options: StreamingDetectorOptions = {}) {
    this.config = resolveConfig(options);
    this.threshold = sensitivityToThreshold(this.config.sensitivity);
    this.surpriseThreshold = surpriseThreshold(this.config.sensitivity);
    // The band is where the spike channel stays quiet: |z| below the two-sided normal quantile at the label threshold's p.
    this.bandZ = -normalQuantile(Math.exp(logPFromScore(this.surpriseThreshold)) / 2);
  }

  /** Rebuilds a detector from `serialize()` output; subsequent scores are identical to the original's. */
  static restore(state: unknown): StreamingDetector {
    const parsed = streamingStateSchema.safeParse(state);
    if (!parsed.success) throw new InvalidStateError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const s = parsed.data;
    const detector = new StreamingDetector({ ...s.config, period: s.config.period ?? undefined });
    detector.n = s.n;
    if (s.model) {
      if (s.model.season.length !== s.model.period || s.model.phase >= s.model.period) throw new InvalidStateError('season length does not match period');
      detector.adoptModel(s.model);
    } else {
      detector.buffer = [...(s.buffer ?? [])];
      // The same additions in the same order as the original made, so the warm-up band is bit-identical.
      detector.buffer.forEach((v, i) => detector.addToWarmupMoments(v, i + 1));
    }
    return detector;
  }

  /** Starts from an already fitted model (the batch helper's two-pass mode), skipping the warm-up. */
  static fromModel(model: ModelState, options: StreamingDetectorOptions = {}): StreamingDetector {
    const detector = new StreamingDetector(options);
    detector.adoptModel(structuredClone(model));
    return detector;
  }

  get isWarmingUp(): boolean {
    return this.m === null;
  }

  /** Season length in use (1 = none), or null while warming up. */
  get period(): number | null {
    return this.m?.period ?? null;
  }

  /** Plain JSON state (a few KB): store it per sensor between batches. */
  serialize(): StreamingState {
    const model = this.m ? { ...this.m, season: Array.from(this.season), runPos: [...this.m.runPos] as [number, number, number], runNeg: [...this.m.runNeg] as [number, number, number] } : null;
    return { version: 1, config: { ...this.config }, n: this.n, buffer: this.buffer ? [...this.buffer] : null, model };
  }

  /** Scores `value` against the past, then learns from it. Throws NonFiniteValueError for NaN or Infinity. */
  update(value: number): StreamingPoint {
    if (!Number.isFinite(value)) throw new NonFiniteValueError('streaming values', this.n, value);
    if (this.m === null) return this.warmupStep(value);
    return this.scoreAndLearn(value, true);
  }

  private adoptModel(model: ModelState): void {
    this.m = model;
    this.season = Float64Array.from(model.season);
    this.buffer = null;
  }

  private addToWarmupMoments(value: number, k: number): void {
    const delta = value - this.wMean;
    this.wMean += delta / k;
    this.wM2 += delta * (value - this.wMean);
  }

  private warmupStep(value: number): StreamingPoint {
    const buffer = this.buffer ?? [];
    const count = buffer.length;
    const sd = count > 1 ? Math.sqrt(this.wM2 / (count - 1)) : 0;
    const expected = count > 0 ? this.wMean : value;
    const point: StreamingPoint = {
      index: this.n,
      value,
      score: 0,
      surprise: 0,
      label: false,
      expected,
      lower: expected - this.bandZ * sd,
      upper: expected + this.bandZ * sd,
      kind: null,
      warmingUp: true,
      changePoint: false,
    };
    buffer.push(value);
    this.buffer = buffer;
    this.addToWarmupMoments(value, buffer.length);
    this.n++;
    if (buffer.length >= this.config.warmup) this.finishWarmup(buffer);
    return point;
  }

  /** Fits on the buffer, then replays it (learning only, never alarming) so the model stands at the present. */
  private finishWarmup(buffer: number[]): void {
    const n = this.n;
    this.adoptModel(fitWarmup(buffer, this.config));
    for (const v of buffer) this.scoreAndLearn(v, false);
    this.resetCusum();
    const m = this.m as ModelState;
    m.varShort = m.varLong;
    // The replay is in-sample: its scores teach what ordinary surprise looks like, but hold nothing back.
    m.hold = 0;
    this.n = n;
  }

  private scoreAndLearn(x: number, alarms: boolean): StreamingPoint {
    const m = this.m as ModelState;
    const season = this.season;
    const phase = m.phase;
    const expected = m.level + m.phi * m.trend + season[phase];
    const r = x - expected;
    const sigma = Math.max(ABS_TO_SIGMA * m.meanAbs, m.sigmaFloor);
    const calib = clamp(m.q99 / Z99, 0.75, 4);
    const sigmaC = sigma * calib;
    const z = r / sigmaC;
    const zc = clamp(z, -Z_CAP, Z_CAP);

    const logPSpike = spikeLogP(Math.abs(z), m.q99 / calib, m.q999 / calib);

    // CUSUM channel; each side's run keeps line-fit sums of the raw residual since it last left zero.
    m.cusumPos = trackRun(m.cusumPos + zc - CUSUM_K, m.runPos, r);
    m.cusumNeg = trackRun(m.cusumNeg - zc - CUSUM_K, m.runNeg, r);
    const logPShift = Math.min(0, LN2 - logCusumArl(Math.max(m.cusumPos, m.cusumNeg)));

    // Variance channel on first differences of z: a level step is one large difference, a noise change is many.
    const dz = zc - m.lastZ;
    const u = Math.min((dz * dz) / 2, VAR_CAP);
    const varShortNext = m.varShort + VAR_SHORT_RATE * (u - m.varShort);
    const ratio = varShortNext / Math.max(m.varLong, 0.05);
    const logPVar = wilsonHilfertyLogUpperTail(ratio, VAR_DOF * varianceInputDof(m.varLong, m.varLongSq));

    // Stuck channel.
    const repeated = x === m.last;
    const repeatRun = repeated ? m.repeatRun + 1 : 0;
    const logPStuck = repeatRun * Math.log(clamp(m.repeatRate, MIN_REPEAT, MAX_REPEAT));

    const scores = [scoreFromLogP(logPSpike), scoreFromLogP(logPShift), scoreFromLogP(logPVar), scoreFromLogP(logPStuck)];
    let channel: number = CHANNEL_PRIORITY[0];
    // Ties (all at 1 on a gross fault) go to the more specific channel: stuck, then shift, then variance, then spike.
    for (const c of CHANNEL_PRIORITY) if (scores[c] > scores[channel]) channel = c;
    const surprise = scores[channel];
    const label = alarms && surprise >= this.surpriseThreshold;
    const onset = onsetScore(m, Math.min(logPSpike, logPShift, logPVar, logPStuck), x, 10 * m.sigmaFloor);
    const score = alarms ? onset : 0;
    let kind: AnomalyKind | null = null;
    let changePoint = false;
    let learnFrom = 0;
    let clipSigma = sigmaC;
    // The short variance window sees every point (capped), so a noise burst that also trips the spike channel still adds up.
    m.varShort = varShortNext;
    m.lastZ = zc;
    if (!label) {
      this.learn(r, sigmaC, z * calib, u);
      learnFrom = r;
    } else if (channel === 1) {
      kind = this.rebaseAfterShift(m.cusumPos >= m.cusumNeg ? m.runPos : m.runNeg, sigmaC);
      changePoint = true;
    } else if (channel === 2) {
      kind = 'variance_change';
      const factor = this.rescaleAfterVarianceChange(ratio);
      m.lastZ = zc / factor;
      clipSigma = sigmaC * factor;
      learnFrom = r;
    } else {
      // Spikes and stuck values teach the model nothing: it keeps expecting what a healthy sensor would show.
      kind = channel === 3 ? 'stuck' : 'spike';
      // A departure while the spread is still at its floor (a flat warm-up) sets the scale, as a Z_CAP-sigma move: without
      // it every later point of the new regime would be a spike, and spikes teach nothing.
      if (channel === 0 && ABS_TO_SIGMA * m.meanAbs <= 1.01 * m.sigmaFloor) m.meanAbs = Math.abs(r) / (Z_CAP * ABS_TO_SIGMA * calib);
      // A frozen sensor is not a level shift: do not let its residuals build up a CUSUM that re-bases the level later.
      if (channel === 3) this.resetCusum();
    }
    if (!(label && channel === 3)) m.repeatRate += REPEAT_RATE * ((repeated ? 1 : 0) - m.repeatRate);
    m.repeatRun = repeatRun;
    m.last = x;
    if (m.shiftAge < RAMP_MEMORY) m.shiftAge++;
    this.advanceLevel(learnFrom, clipSigma);
    m.phase = phase + 1 === m.period ? 0 : phase + 1;

    const half = this.bandZ * sigmaC;
    return { index: this.n++, value: x, score, surprise: alarms ? surprise : 0, label, expected, lower: expected - half, upper: expected + half, kind, warmingUp: false, changePoint };
  }

  /** Holt-Winters error-correction update with the residual clipped at CLIP_SIGMA (0 for points labelled anomalous). */
  private advanceLevel(r: number, sigmaC: number): void {
    const m = this.m as ModelState;
    const limit = CLIP_SIGMA * sigmaC;
    const rc = r > limit ? limit : r < -limit ? -limit : r;
    m.level += m.phi * m.trend + m.alpha * rc;
    m.trend = m.phi * m.trend + m.beta * rc;
    // For two cycles after a confirmed change the season learns fast, so a changed cycle shape is relearnt, not alarmed on.
    const gamma = m.boost > 0 ? Math.max(m.gamma, BOOSTED_GAMMA) : m.gamma;
    if (m.boost > 0) m.boost--;
    this.season[m.phase] += gamma * rc;
  }

  /** Spread, calibration and variance baseline learn from normal points only. */
  private learn(r: number, sigmaC: number, zUncalibrated: number, u: number): void {
    const m = this.m as ModelState;
    const absR = Math.abs(r);
    const cap = Z_CAP * sigmaC;
    m.meanAbs += SIGMA_RATE * ((absR > cap ? cap : absR) - m.meanAbs);
    // Tail percentiles learn only while the short-term variance is ordinary: a noise burst is a change, not a heavier tail.
    if (m.varShort < BURST_RATIO * m.varLong) {
      const absZ = Math.abs(zUncalibrated);
      m.q99 = clamp(m.q99 + Q99_RATE * ((absZ > m.q99 ? 1 : 0) - 0.01), 2, 10);
      m.q999 = clamp(m.q999 * Math.exp(Q999_RATE * ((absZ > m.q999 ? 1 : 0) - 0.001)), m.q99 * 1.1, 100);
    }
    m.varLong += VAR_LONG_RATE * (u - m.varLong);
    m.varLongSq += VAR_LONG_RATE * (u * u - m.varLongSq);
  }

  /**
   * After a CUSUM alarm: a line through the run's residuals tells a step (flat offset) from a new slope. When the slope
   * explains the run far better than a constant (reduction of squared error over 16 sigma^2, i.e. a 4-sigma slope), the
   * level moves to the line's end and the trend takes the slope; otherwise the level moves by the run's mean residual.
   */
  private rebaseAfterShift(run: [number, number, number], sigmaC: number): AnomalyKind {
    const m = this.m as ModelState;
    const [count, sumR, sumTR] = run;
    const meanR = count > 0 ? sumR / count : 0;
    let kind: AnomalyKind = 'level_shift';
    if (count >= 6) {
      const tMean = (count - 1) / 2;
      const sxx = (count * (count * count - 1)) / 12;
      const slope = (sumTR - count * tMean * meanR) / sxx;
      if ((slope * slope * sxx) / (sigmaC * sigmaC) > 9) {
        kind = 'trend_change';
        m.level += meanR + slope * (count - 1 - tMean);
        m.trend += slope;
      }
    }
    if (kind === 'level_shift') {
      m.level += meanR;
      // Two steps the same way in quick succession are a ramp the run was too short to show: learn its slope.
      if (Math.sign(meanR) === m.shiftSign && m.shiftAge < RAMP_MEMORY) {
        kind = 'trend_change';
        m.trend += meanR / Math.max(1, m.shiftAge);
      }
    }
    m.shiftSign = Math.sign(meanR);
    m.shiftAge = 0;
    m.boost = m.period > 1 ? 2 * m.period : 0;
    this.resetCusum();
    m.varShort = m.varLong;
    m.lastZ = 0;
    return kind;
  }

  private resetCusum(): void {
    const m = this.m as ModelState;
    m.cusumPos = 0;
    m.cusumNeg = 0;
    m.runPos = [0, 0, 0];
    m.runNeg = [0, 0, 0];
  }

  /** Returns the factor by which the spread grew. */
  private rescaleAfterVarianceChange(ratio: number): number {
    const m = this.m as ModelState;
    const factor = Math.sqrt(clamp(ratio, 1, Z_CAP * Z_CAP));
    m.meanAbs *= factor;
    m.varShort = m.varLong;
    m.boost = m.period > 1 ? 2 * m.period : 0;
    return factor;
  }
}

/**
 * ln p of a calibrated |z| (q99c and q999c are the learned percentiles in the same units; q99c is 2.576 by construction).
 * Normal tail while the noise looks normal; for heavy tails an exponential tail through (q99, 1 %) and (q999, 0.1 %), so a
 * Student-t sensor does not alarm on every tail draw.
 */
function spikeLogP(absZ: number, q99c: number, q999c: number): number {
  const normal = LN2 + logNormalUpperTail(absZ);
  if (q999c / q99c <= HEAVY_TAIL_RATIO || absZ <= q99c) return normal;
  const exponential = Math.log(0.01) - ((absZ - q99c) / (q999c - q99c)) * Math.LN10;
  return Math.max(normal, exponential);
}

/** Degrees of freedom of one variance-channel input relative to normal noise (1 = normal, < 1 heavy-tailed). */
function varianceInputDof(mean: number, meanSq: number): number {
  const variance = meanSq - mean * mean;
  return variance <= 0 ? 1 : clamp((mean * mean) / variance, 0.1, 1);
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Updates one CUSUM side; resets its run sums when the statistic returns to 0. Returns the new statistic. */
function trackRun(next: number, run: [number, number, number], r: number): number {
  if (next <= 0) {
    run[0] = 0;
    run[1] = 0;
    run[2] = 0;
    return 0;
  }
  run[2] += run[0] * r;
  run[0] += 1;
  run[1] += r;
  return next;
}

/** ln of Siegmund's in-control average run length of a one-sided CUSUM (allowance k) with decision interval s. */
function logCusumArl(s: number): number {
  const b = 2 * CUSUM_K * (s + 1.166);
  if (b > 30) return b - Math.log(2 * CUSUM_K * CUSUM_K);
  return Math.log(Math.max(1, (Math.exp(b) - b - 1) / (2 * CUSUM_K * CUSUM_K)));
}

/** ln P(chi2_dof / dof > ratio) by the Wilson-Hilferty cube-root normal approximation. */
function wilsonHilfertyLogUpperTail(ratio: number, dof: number): number {
  const v = 2 / (9 * dof);
  return logNormalUpperTail((Math.cbrt(ratio) - (1 - v)) / Math.sqrt(v));
}
