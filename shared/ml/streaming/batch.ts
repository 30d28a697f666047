import { StreamingDetector, type StreamingDetectorOptions } from './detector.js';
import { assertFiniteSeries, assertMinLength } from './errors.js';
import type { StreamingPoint } from './state.js';
import { fitWarmup } from './warmup.js';

export interface BatchDetectOptions extends StreamingDetectorOptions {
  /**
   * Batch mode only: fit on the first `warmup` points, then score the whole series from its first point with that
   * fit, so the warm-up points get scores too. The first `warmup` scores then depend on points after them (not causal).
   */
  twoPass?: boolean;
}

export interface BatchDetectResult {
  points: StreamingPoint[];
  /** Season length used (1 = none). */
  period: number;
  threshold: number;
}

/** Runs the streaming detector over a whole series (the /ml/detect univariate path, both modes). */
export function detectSeries(values: readonly number[], options: BatchDetectOptions = {}): BatchDetectResult {
  assertFiniteSeries(values);
  const warmup = Math.min(options.warmup ?? 400, Math.max(16, values.length));
  assertMinLength(values, 16, 'series', 'to learn its level and spread');
  const detectorOptions: StreamingDetectorOptions = { ...options, warmup };
  let detector: StreamingDetector;
  if (options.twoPass && values.length >= warmup) {
    const probe = new StreamingDetector(detectorOptions);
    detector = StreamingDetector.fromModel(fitWarmup(values.slice(0, warmup), probe.config), detectorOptions);
  } else {
    detector = new StreamingDetector(detectorOptions);
  }
  const points = new Array<StreamingPoint>(values.length);
  for (let i = 0; i < values.length; i++) points[i] = detector.update(values[i]);
  return { points, period: detector.period ?? 1, threshold: detector.threshold };
}
