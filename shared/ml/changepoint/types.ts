export interface ChangePoint {
  /** Index of the first point of the new segment. */
  index: number;
  /** Timestamp of that point, when timestamps were given. */
  timestamp?: number;
  /** Index at which an online detector confirmed it (offline: same as index). */
  detectedAt: number;
  /** Mean before and after the change. */
  before: number;
  after: number;
  /** after - before, in the series' units. */
  magnitude: number;
  /** magnitude divided by the robust noise sigma. */
  magnitudeSigma: number;
}
