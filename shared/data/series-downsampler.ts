/**
 * Keeps each column as at most `capacity` points (min, max, sum, count per bucket of rows)
 * whatever the length of the input: when the buckets are full, neighbours merge pairwise and
 * each bucket covers twice as many rows. Also the within-bucket sum of squares, for noise estimates.
 *
 * Bucket b covers rows [b * rowsPerBucket, (b + 1) * rowsPerBucket) of the input. Rows come a
 * batch at a time: plan() assigns a range of the batch's rows to buckets (segments), the caller
 * adds each column's values per segment into the bucket arrays, and halve() makes room when plan()
 * stops short. Series of consecutive chunks of a file merge with append().
 */

/** A downsampled series as plain JSON; per-cell arrays are bucket-major (bucket * columns + column). */
export interface SeriesState {
  columns: number;
  capacity: number;
  rowsPerBucket: number;
  /** Rows added in all. */
  rows: number;
  buckets: number;
  fromLine: number[];
  toLine: number[];
  /** First timestamp of each bucket (epoch ms), null when none. */
  time: (number | null)[];
  n: number[];
  sum: number[];
  sumSq: number[];
  /** null where n is 0. */
  min: (number | null)[];
  max: (number | null)[];
}

export class SeriesDownsampler {
  readonly capacity: number;
  rowsPerBucket = 1;
  buckets = 0;
  /** Rows added in all. */
  rows = 0;
  private inBucket = 0;
  readonly fromLine: Float64Array;
  readonly toLine: Float64Array;
  readonly time: Float64Array;
  readonly min: Float64Array;
  readonly max: Float64Array;
  readonly sum: Float64Array;
  readonly sumSq: Float64Array;
  readonly n: Float64Array;
  /** Segments of the last plan(): rows [.., segEnd[s]) go to the bucket cells starting at segBase[s]. */
  segments = 0;
  segEnd = new Int32Array(64);
  segBase = new Int32Array(64);

  constructor(
    readonly columns: number,
    capacity = 1024,
  ) {
    this.capacity = Math.max(2, capacity - (capacity % 2));
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

  private open(line: number, t: number): number {
    const b = this.buckets++;
    this.fromLine[b] = line;
    this.toLine[b] = line;
    this.time[b] = t;
    const base = b * this.columns;
    this.min.fill(Infinity, base, base + this.columns);
    this.max.fill(-Infinity, base, base + this.columns);
    this.sum.fill(0, base, base + this.columns);
    this.sumSq.fill(0, base, base + this.columns);
    this.n.fill(0, base, base + this.columns);
    this.inBucket = 0;
    return b;
  }

  /**
   * Assigns rows k0.. of a batch (their lines and times) to buckets, as far as the capacity allows:
   * returns the end of what was planned (less than k1 when halve() must run first) and leaves the
   * segments in segEnd / segBase.
   */
  plan(line: Float64Array, time: Float64Array, k0: number, k1: number): number {
    if (this.segEnd.length < k1 - k0 + 1) {
      this.segEnd = new Int32Array(k1 - k0 + 1);
      this.segBase = new Int32Array(k1 - k0 + 1);
    }
    let k = k0;
    let s = 0;
    while (k < k1) {
      if (this.buckets === 0 || this.inBucket >= this.rowsPerBucket) {
        if (this.buckets === this.capacity) break;
        this.open(line[k], time[k]);
      }
      const b = this.buckets - 1;
      const e = Math.min(k1, k + this.rowsPerBucket - this.inBucket);
      if (this.time[b] !== this.time[b])
        for (let i = k; i < e; i++)
          if (time[i] === time[i]) {
            this.time[b] = time[i];
            break;
          }
      this.toLine[b] = line[e - 1];
      this.segEnd[s] = e;
      this.segBase[s] = b * this.columns;
      s++;
      this.inBucket += e - k;
      this.rows += e - k;
      k = e;
    }
    this.segments = s;
    return k;
  }

  /** Starts the row's bucket (one row at a time); then call value() for each column. */
  row(line: number, t: number): number {
    if (this.buckets === 0 || this.inBucket >= this.rowsPerBucket) {
      if (this.buckets === this.capacity) this.halve();
      this.open(line, t);
    }
    this.inBucket++;
    this.rows++;
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

  /** Merges neighbouring buckets pairwise: each covers twice as many rows. */
  halve(): void {
    const C = this.columns;
    const half = Math.ceil(this.buckets / 2);
    for (let b = 0; b < half; b++) {
      const a = 2 * b;
      const z = a + 1;
      const pair = z < this.buckets;
      this.fromLine[b] = this.fromLine[a];
      this.toLine[b] = this.toLine[pair ? z : a];
      this.time[b] = this.time[a] === this.time[a] || !pair ? this.time[a] : this.time[z];
      for (let c = 0; c < C; c++) {
        const o = b * C + c;
        const i = a * C + c;
        const j = z * C + c;
        if (!pair) {
          this.min[o] = this.min[i];
          this.max[o] = this.max[i];
          this.sum[o] = this.sum[i];
          this.sumSq[o] = this.sumSq[i];
          this.n[o] = this.n[i];
          continue;
        }
        this.min[o] = Math.min(this.min[i], this.min[j]);
        this.max[o] = Math.max(this.max[i], this.max[j]);
        this.sum[o] = this.sum[i] + this.sum[j];
        this.sumSq[o] = this.sumSq[i] + this.sumSq[j];
        this.n[o] = this.n[i] + this.n[j];
      }
    }
    this.buckets = half;
    this.rowsPerBucket *= 2;
    this.inBucket = half > 0 ? this.rows - (half - 1) * this.rowsPerBucket : 0;
  }

  /**
   * Appends the series of the next chunk of the file (its lines shifted by lineOffset), as if its
   * rows had come one by one: each of its buckets goes whole into the bucket of this series where
   * its first row falls (this series first coarsens until its buckets are at least as large).
   * Bucket edges near a chunk boundary can be off by less than one of the chunk's buckets; the
   * series of a single chunk appended to an empty one is the chunk's series exactly.
   */
  append(st: SeriesState, lineOffset: number): void {
    if (st.columns !== this.columns) throw new Error(`series of ${st.columns} columns cannot join one of ${this.columns}`);
    if (st.buckets === 0) return;
    const r = st.rowsPerBucket;
    if (this.buckets === 0) this.rowsPerBucket = Math.max(this.rowsPerBucket, r);
    while (this.rowsPerBucket < r) this.halve();
    const C = this.columns;
    for (let p = 0; p < st.buckets; p++) {
      const rows = p < st.buckets - 1 ? r : st.rows - (st.buckets - 1) * r;
      let j = Math.floor(this.rows / this.rowsPerBucket);
      if (j >= this.buckets && this.buckets === this.capacity) {
        this.halve();
        j = Math.floor(this.rows / this.rowsPerBucket);
      }
      const t = st.time[p] ?? Number.NaN;
      const b = j >= this.buckets || this.buckets === 0 ? this.open(st.fromLine[p] + lineOffset, t) : this.buckets - 1;
      this.toLine[b] = st.toLine[p] + lineOffset;
      if (this.time[b] !== this.time[b]) this.time[b] = t;
      for (let c = 0; c < C; c++) {
        const o = b * C + c;
        const i = p * C + c;
        if (st.n[i] === 0) continue;
        this.min[o] = Math.min(this.min[o], st.min[i] ?? Infinity);
        this.max[o] = Math.max(this.max[o], st.max[i] ?? -Infinity);
        this.sum[o] += st.sum[i];
        this.sumSq[o] += st.sumSq[i];
        this.n[o] += st.n[i];
      }
      this.rows += rows;
      this.inBucket = this.rows - (this.buckets - 1) * this.rowsPerBucket;
    }
  }

  toJSON(): SeriesState {
    const cells = this.buckets * this.columns;
    const orNull = (a: Float64Array) => Array.from(a.subarray(0, cells), (x, i) => (this.n[i] > 0 ? x : null));
    return {
      columns: this.columns,
      capacity: this.capacity,
      rowsPerBucket: this.rowsPerBucket,
      rows: this.rows,
      buckets: this.buckets,
      fromLine: Array.from(this.fromLine.subarray(0, this.buckets)),
      toLine: Array.from(this.toLine.subarray(0, this.buckets)),
      time: Array.from(this.time.subarray(0, this.buckets), (t) => (Number.isFinite(t) ? t : null)),
      n: Array.from(this.n.subarray(0, cells)),
      sum: Array.from(this.sum.subarray(0, cells)),
      sumSq: Array.from(this.sumSq.subarray(0, cells)),
      min: orNull(this.min),
      max: orNull(this.max),
    };
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
