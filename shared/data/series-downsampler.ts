/**
 * Keeps each column as at most `capacity` points (min, max, sum, count per bucket of rows)
 * whatever the length of the input: when the buckets are full, neighbours merge pairwise and
 * each bucket covers twice as many rows. Also the within-bucket sum of squares, for noise estimates.
 */
export class SeriesDownsampler {
  readonly capacity: number;
  rowsPerBucket = 1;
  buckets = 0;
  private inBucket = 0;
  readonly fromLine: Float64Array;
  readonly toLine: Float64Array;
  readonly time: Float64Array;
  readonly min: Float64Array;
  readonly max: Float64Array;
  readonly sum: Float64Array;
  readonly sumSq: Float64Array;
  readonly n: Float64Array;

  constructor(
    readonly columns: number,
    capacity = 1024,
  ) {
    this.capacity = capacity - (capacity % 2);
    const size = this.capacity * columns;
    this.fromLine = new Float64Array(this.capacity);
    this.toLine = new Float64Array(this.capacity);
    this.time = new Float64Array(this.capacity);
    this.min = new Float64Array(size);
    this.max = new Float64Array(size);
    this.sum = new Float64Array(size);
    this.sumSq = new Float64Array(size);
    this.n = new Float64Array(size);
  }

  /** Starts the row's bucket; then call value() for each column. */
  row(line: number, t: number): number {
    if (this.buckets === 0 || this.inBucket === this.rowsPerBucket) {
      if (this.buckets === this.capacity) this.halve();
      const b = this.buckets++;
      this.fromLine[b] = line;
      this.time[b] = t;
      const base = b * this.columns;
      for (let c = 0; c < this.columns; c++) {
        this.min[base + c] = Infinity;
        this.max[base + c] = -Infinity;
        this.sum[base + c] = 0;
        this.sumSq[base + c] = 0;
        this.n[base + c] = 0;
      }
      this.inBucket = 0;
    }
    this.inBucket++;
    const b = this.buckets - 1;
    this.toLine[b] = line;
    if (this.time[b] !== this.time[b]) this.time[b] = t;
    return b * this.columns;
  }

  value(base: number, c: number, x: number): void {
    const i = base + c;
    if (x < this.min[i]) this.min[i] = x;
    if (x > this.max[i]) this.max[i] = x;
    this.sum[i] += x;
    this.sumSq[i] += x * x;
    this.n[i]++;
  }

  private halve(): void {
    const C = this.columns;
    for (let b = 0; b < this.capacity / 2; b++) {
      const a = 2 * b;
      const z = a + 1;
      this.fromLine[b] = this.fromLine[a];
      this.toLine[b] = this.toLine[z];
      this.time[b] = this.time[a] === this.time[a] ? this.time[a] : this.time[z];
      for (let c = 0; c < C; c++) {
        const o = b * C + c;
        const i = a * C + c;
        const j = z * C + c;
        this.min[o] = Math.min(this.min[i], this.min[j]);
        this.max[o] = Math.max(this.max[i], this.max[j]);
        this.sum[o] = this.sum[i] + this.sum[j];
        this.sumSq[o] = this.sumSq[i] + this.sumSq[j];
        this.n[o] = this.n[i] + this.n[j];
      }
    }
    this.buckets = this.capacity / 2;
    this.rowsPerBucket *= 2;
  }

  /** Bucket index holding a line (buckets are in line order). */
  bucketOfLine(line: number): number {
    let lo = 0;
    let hi = this.buckets - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.fromLine[mid] <= line) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
