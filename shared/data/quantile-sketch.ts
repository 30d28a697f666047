/**
 * A mergeable streaming quantile sketch (Munro-Paterson / KLL style with equal buffers):
 * each level holds up to K values of weight 2^level; a full level is sorted and every other
 * value (alternating the offset) moves up. Memory is K values per level, about log2(n / K)
 * levels. As in KLL, the lowest levels become a sampler once there is enough data: past
 * 2^15 values, one value is kept per window of 2^s (a seeded random position in the window,
 * so periodic signals do not alias) and enters level s directly with weight 2^s. That keeps the
 * cost per value to a few nanoseconds (sorting every value measured over 200 ns here) and adds a
 * sampling rank error of about 0.5%.
 */
const K = 1024;
const SAMPLE_FROM = 1 << 15;

/**
 * In-place quicksort (median of three, insertion sort below 16). TypedArray#sort measured about
 * 8 times slower here on 1024 doubles, and sorting is the sketch's main cost. NaN is never added.
 */
export function sortFloat64(a: Float64Array, lo: number, hi: number): void {
  while (hi - lo > 16) {
    const mid = (lo + hi) >> 1;
    let x = a[lo];
    let y = a[mid];
    let z = a[hi];
    if (y < x) [x, y] = [y, x];
    if (z < y) {
      [y, z] = [z, y];
      if (y < x) [x, y] = [y, x];
    }
    a[lo] = x;
    a[mid] = y;
    a[hi] = z;
    const pivot = y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    // Recurse into the smaller side, loop on the larger: stack depth stays logarithmic.
    if (j - lo < hi - i) {
      sortFloat64(a, lo, j);
      lo = i;
    } else {
      sortFloat64(a, i, hi);
      hi = j;
    }
  }
  for (let i = lo + 1; i <= hi; i++) {
    const v = a[i];
    let j = i - 1;
    while (j >= lo && a[j] > v) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = v;
  }
}

export class QuantileSketch {
  private readonly levels: Float64Array[] = [new Float64Array(K)];
  private readonly sizes: number[] = [0];
  private flip = 0;
  count = 0;
  min = Infinity;
  max = -Infinity;
  /** Sampler: values enter level `level`, one per window of 2^level values, at position `pick`. */
  private level = 0;
  private window = 1;
  private inWindow = 0;
  private pick = 0;
  private nextDouble = SAMPLE_FROM;
  private seed = 0x9e3779b9;

  add(x: number): void {
    this.count++;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    if (this.window > 1) {
      const i = this.inWindow++;
      if (this.inWindow === this.window) this.nextWindow();
      if (i !== this.pick) return;
    } else if (this.count >= this.nextDouble) {
      this.startSampling();
    }
    const h = this.level;
    this.levels[h][this.sizes[h]++] = x;
    if (this.sizes[h] === K) this.compact(h);
  }

  private startSampling(): void {
    this.level++;
    this.window *= 2;
    this.nextDouble *= 2;
    while (this.levels.length <= this.level) {
      this.levels.push(new Float64Array(K));
      this.sizes.push(0);
    }
    this.inWindow = 0;
    this.pick = this.random() % this.window;
  }

  private nextWindow(): void {
    this.inWindow = 0;
    if (this.count >= this.nextDouble) this.startSampling();
    else this.pick = this.random() % this.window;
  }

  /** xorshift32: deterministic, so a profile is reproducible. */
  private random(): number {
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed;
  }

  private compact(h: number): void {
    if (this.levels.length === h + 1) {
      this.levels.push(new Float64Array(K));
      this.sizes.push(0);
    }
    if (this.sizes[h + 1] + K / 2 > K) this.compact(h + 1);
    const buf = this.levels[h].subarray(0, this.sizes[h]);
    sortFloat64(buf, 0, buf.length - 1);
    const up = this.levels[h + 1];
    let n = this.sizes[h + 1];
    this.flip ^= 1;
    for (let i = this.flip; i < buf.length; i += 2) up[n++] = buf[i];
    this.sizes[h + 1] = n;
    this.sizes[h] = 0;
  }

  /** The sketch's values with their weights, sorted by value. */
  weighted(): { values: Float64Array; weights: Float64Array } {
    const total = this.sizes.reduce((a, b) => a + b, 0);
    const pairs: [number, number][] = [];
    this.levels.forEach((lvl, h) => {
      for (let i = 0; i < this.sizes[h]; i++) pairs.push([lvl[i], 2 ** h]);
    });
    pairs.sort((a, b) => a[0] - b[0]);
    const values = new Float64Array(total);
    const weights = new Float64Array(total);
    pairs.forEach(([v, w], i) => {
      values[i] = v;
      weights[i] = w;
    });
    return { values, weights };
  }

  /** Quantiles (q in [0, 1]) of what was added; NaN when empty. q = 0 and 1 are the exact min and max. */
  quantiles(qs: readonly number[]): number[] {
    if (this.count === 0) return qs.map(() => Number.NaN);
    const { values, weights } = this.weighted();
    let total = 0;
    for (const w of weights) total += w;
    return qs.map((q) => {
      if (q <= 0) return this.min;
      if (q >= 1) return this.max;
      const target = q * total;
      let cum = 0;
      for (let i = 0; i < values.length; i++) {
        cum += weights[i];
        if (cum >= target) return values[i];
      }
      return this.max;
    });
  }

  /** Adds another sketch's content (for profiles computed per chunk, e.g. by a Distributed Map). */
  merge(other: QuantileSketch): void {
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    other.levels.forEach((lvl, h) => {
      for (let i = 0; i < other.sizes[h]; i++) {
        while (this.levels.length <= h) {
          this.levels.push(new Float64Array(K));
          this.sizes.push(0);
        }
        this.levels[h][this.sizes[h]++] = lvl[i];
        if (this.sizes[h] === K) this.compact(h);
      }
    });
    this.count += other.count;
  }
}
