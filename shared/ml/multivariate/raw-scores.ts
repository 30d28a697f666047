/** What every model family computes per row before calibration; the ONNX export reproduces exactly this. */
export interface RawScores {
  /** Raw anomaly score, larger is more anomalous, on the family's own scale. */
  raw: Float64Array;
  /** rows x features, row-major, non-negative: how much each feature drove the raw score. */
  contributions: Float64Array;
}
