/**
 * The preprocessing steps as a chain of row sinks. A row is a timestamp (epoch ms) and a
 * Float64Array of the sensor values followed by the label (when there is one); NaN is missing.
 * A sink may reuse the array it passes on, so a stage that keeps a row copies it. Each stage
 * holds a bounded number of rows, so memory does not depend on the input's length.
 */
import { DataValidationError } from './errors.js';
import type { ScaleParams, WindowStat } from './preprocess-recipe.js';

export interface RowSink {
  push(t: number, row: Float64Array): void;
  end(): void;
}

/**
 * A sink that takes a row in place, as the values at data[base, base + width): the fused path
 * hands on rows where they already are instead of copying them into a scratch array first. The
 * values are valid only during the call.
 */
export interface SlotSink {
  pushSlot(t: number, data: Float64Array, base: number): void;
  end(): void;
}

/** What a stage counts, reported to a CountLedger with the time each count belongs to. */
export const COUNT_DROPPED = 0;
export const COUNT_EMPTY_BUCKETS = 1;
export const COUNT_GAPS_LEFT = 2;
export const COUNT_IMPUTED = 3;
export const COUNT_BUCKETS_REFUSED = 4;
export type CountKind = typeof COUNT_DROPPED | typeof COUNT_EMPTY_BUCKETS | typeof COUNT_GAPS_LEFT | typeof COUNT_IMPUTED | typeof COUNT_BUCKETS_REFUSED;
export const COUNT_KINDS = 5;

/**
 * Where the stages also report their counts when only part of the output is kept (a chunk of a
 * larger file, see preprocess-dataset.ts): each count comes with the time of the output row it
 * belongs to (a bucket start when resampling: an empty bucket's, the first bucket of a gap left, an
 * imputed value's row), except a dropped duplicate, which comes with the dropped row's own time.
 * The stages' own counters still count everything they see.
 */
export interface CountLedger {
  note(kind: CountKind, t: number, n: number): void;
}

/**
 * Sorts input that is out of order by less than `window` rows. Rows that arrive in order go to a
 * FIFO (constant time); only rows earlier than the FIFO's last go to a min-heap; the next row out
 * is the smaller of the two heads. Sorted input thus costs no heap work at all. Both share one
 * pool of `window` row slots, so memory is fixed.
 */
export class ReorderStage implements RowSink {
  private readonly heap: Int32Array;
  private heapSize = 0;
  private readonly fifo: Int32Array;
  private fifoHead = 0;
  private fifoSize = 0;
  private fifoLastT = -Infinity;
  private readonly free: Int32Array;
  private freeTop: number;
  private readonly times: Float64Array;
  private readonly seqs: Float64Array;
  private readonly data: Float64Array;
  private readonly out: Float64Array;
  private seq = 0;
  private lastOut = -Infinity;
  reordered = 0;

  /** With a SlotSink as next, popped rows are handed on where they sit in the pool (no copy). */
  constructor(
    private readonly next: RowSink,
    private readonly width: number,
    private readonly window: number,
    private readonly slotNext?: SlotSink,
  ) {
    this.heap = new Int32Array(window);
    this.fifo = new Int32Array(window);
    this.free = Int32Array.from({ length: window }, (_, i) => window - 1 - i);
    this.freeTop = window;
    this.times = new Float64Array(window);
    this.seqs = new Float64Array(window);
    this.data = new Float64Array(window * width);
    this.out = new Float64Array(width);
  }

  private less(a: number, b: number): boolean {
    const ta = this.times[a];
    const tb = this.times[b];
    return ta < tb || (ta === tb && this.seqs[a] < this.seqs[b]);
  }

  push(t: number, row: Float64Array): void {
    const slot = this.take(t);
    const w = this.width;
    const base = slot * w;
    for (let i = 0; i < w; i++) this.data[base + i] = row[i];
    this.insert(slot, t);
  }

  /** A row given as element k of column arrays (the sensors', then the label's when there is one): copied once, into the pool. */
  pushColumns(t: number, values: readonly Float64Array[], label: Float64Array | null, k: number): void {
    const slot = this.take(t);
    const data = this.data;
    const base = slot * this.width;
    const s = values.length;
    for (let i = 0; i < s; i++) data[base + i] = values[i][k];
    if (label) data[base + s] = label[k];
    this.insert(slot, t);
  }

  /** A free slot for a row at time t (the earliest row leaves first when the pool is full). */
  private take(t: number): number {
    if (this.heapSize + this.fifoSize === this.window) this.pop();
    const slot = this.free[--this.freeTop];
    this.times[slot] = t;
    this.seqs[slot] = this.seq++;
    return slot;
  }

  /** Queues the filled slot: in order to the FIFO, otherwise to the heap. */
  private insert(slot: number, t: number): void {
    if (t >= this.fifoLastT) {
      let tail = this.fifoHead + this.fifoSize++;
      if (tail >= this.window) tail -= this.window;
      this.fifo[tail] = slot;
      this.fifoLastT = t;
      return;
    }
    this.reordered++;
    const heap = this.heap;
    let i = this.heapSize++;
    heap[i] = slot;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(heap[i], heap[p])) break;
      const tmp = heap[i];
      heap[i] = heap[p];
      heap[p] = tmp;
      i = p;
    }
  }

  private pop(): void {
    let slot: number;
    const fromFifo = this.fifoSize > 0 && (this.heapSize === 0 || this.less(this.fifo[this.fifoHead], this.heap[0]));
    if (fromFifo) {
      slot = this.fifo[this.fifoHead];
      if (++this.fifoHead === this.window) this.fifoHead = 0;
      this.fifoSize--;
    } else {
      const heap = this.heap;
      slot = heap[0];
      const n = --this.heapSize;
      heap[0] = heap[n];
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && this.less(heap[r], heap[l]) ? r : l;
        if (!this.less(heap[c], heap[i])) break;
        const tmp = heap[i];
        heap[i] = heap[c];
        heap[c] = tmp;
        i = c;
      }
    }
    const t = this.times[slot];
    if (t < this.lastOut)
      throw DataValidationError.of(
        'UNSORTED_BEYOND_WINDOW',
        `Rows are out of time order by more than ${this.window} rows (a row at ${new Date(t).toISOString()} comes after ${new Date(this.lastOut).toISOString()}): sort the file, or raise reorderWindowRows.`,
      );
    this.lastOut = t;
    const w = this.width;
    const base = slot * w;
    // The slot goes back to the pool now but is only written by the next push, after this returns.
    this.free[this.freeTop++] = slot;
    if (this.slotNext) {
      this.slotNext.pushSlot(t, this.data, base);
      return;
    }
    for (let i = 0; i < w; i++) this.out[i] = this.data[base + i];
    this.next.push(t, this.out);
  }

  end(): void {
    while (this.heapSize + this.fifoSize > 0) this.pop();
    if (this.slotNext) this.slotNext.end();
    else this.next.end();
  }
}

/** Drops a row identical (values and label, NaN equal to NaN) to an earlier row with the same timestamp. Input must be sorted. */
export class DedupeStage implements RowSink {
  private static readonly GROUP = 256;
  private readonly group: Float64Array;
  private count = 0;
  private t = Number.NaN;
  dropped = 0;
  ledger: CountLedger | undefined;

  constructor(
    private readonly next: RowSink,
    private readonly width: number,
  ) {
    this.group = new Float64Array(DedupeStage.GROUP * width);
  }

  push(t: number, row: Float64Array): void {
    const w = this.width;
    if (t !== this.t) {
      this.t = t;
      this.count = 0;
    } else {
      for (let g = 0; g < this.count; g++) {
        const base = g * w;
        let same = true;
        for (let i = 0; i < w; i++) {
          const a = this.group[base + i];
          const b = row[i];
          if (a !== b && !(a !== a && b !== b)) {
            same = false;
            break;
          }
        }
        if (same) {
          this.dropped++;
          if (this.ledger) this.ledger.note(COUNT_DROPPED, t, 1);
          return;
        }
      }
    }
    if (this.count < DedupeStage.GROUP) {
      const base = this.count++ * w;
      for (let i = 0; i < w; i++) this.group[base + i] = row[i];
    }
    this.next.push(t, row);
  }

  end(): void {
    this.next.end();
  }
}

/** Means per fixed bucket (label: maximum); empty buckets become missing rows, up to maxEmpty in a row. Input must be sorted. */
export class ResampleStage implements RowSink {
  private cur = Number.NaN;
  private readonly sums: Float64Array;
  private readonly counts: Float64Array;
  private readonly out: Float64Array;
  emptyBuckets = 0;
  gapsLeft = 0;
  /** Empty buckets of the gaps left: the rows maxEmptyBuckets kept out of the output. */
  bucketsRefused = 0;
  ledger: CountLedger | undefined;

  constructor(
    private readonly next: RowSink,
    private readonly width: number,
    private readonly sensors: number,
    private readonly intervalMs: number,
    private readonly maxEmpty: number,
  ) {
    this.sums = new Float64Array(width);
    this.counts = new Float64Array(width);
    this.out = new Float64Array(width);
  }

  private flush(): void {
    for (let i = 0; i < this.width; i++) {
      const n = this.counts[i];
      this.out[i] = n > 0 ? (i < this.sensors ? this.sums[i] / n : this.sums[i]) : Number.NaN;
      this.sums[i] = 0;
      this.counts[i] = 0;
    }
    this.next.push(this.cur * this.intervalMs, this.out);
  }

  push(t: number, row: Float64Array): void {
    const bucket = Math.floor(t / this.intervalMs);
    if (bucket !== this.cur) {
      if (this.cur === this.cur) {
        this.flush();
        const gap = bucket - this.cur - 1;
        if (gap > 0 && gap <= this.maxEmpty) {
          if (this.ledger) this.ledger.note(COUNT_EMPTY_BUCKETS, (this.cur + 1) * this.intervalMs, gap);
          this.out.fill(Number.NaN);
          for (let g = 1; g <= gap; g++) this.next.push((this.cur + g) * this.intervalMs, this.out);
          this.emptyBuckets += gap;
        } else if (gap > 0) {
          this.gapsLeft++;
          this.bucketsRefused += gap;
          if (this.ledger) {
            this.ledger.note(COUNT_GAPS_LEFT, (this.cur + 1) * this.intervalMs, 1);
            this.ledger.note(COUNT_BUCKETS_REFUSED, (this.cur + 1) * this.intervalMs, gap);
          }
        }
      }
      this.cur = bucket;
    }
    for (let i = 0; i < this.width; i++) {
      const x = row[i];
      if (x !== x) continue;
      if (i < this.sensors) this.sums[i] += x;
      else this.sums[i] = this.counts[i] > 0 ? Math.max(this.sums[i], x) : x;
      this.counts[i]++;
    }
  }

  end(): void {
    if (this.cur === this.cur) this.flush();
    this.next.end();
  }
}

/**
 * Imputation's state: a ring of maxGap + 2 rows and, per sensor, the open run of missing values.
 * A row is written at `nextBase()` then `commit`ted; runs of at most maxGap missing values between
 * two known ones are filled (linear in time, or the last value), and rows leave in place, in
 * order, once no open run can still change them. The known value before a run is the row before
 * the run's start, still in the ring whenever the run is short enough to be filled, so nothing
 * per known value needs to be kept: a row costs a test per column unless a run starts or ends.
 */
class ImputationRing {
  readonly data: Float64Array;
  private readonly cap: number;
  private readonly times: Float64Array;
  /**
   * Per column, the row where its open run of missing values began, -1 when none. Every column
   * starts with a run from row 0, which has no known value before it: it is never filled and
   * blocks nothing. A run that begins later follows a known value, at the row before it.
   */
  private readonly runStart: Float64Array;
  private readonly linear: boolean;
  private head = 0;
  private headSlot = 0;
  private idx = 0;
  private slot = 0;
  /** Columns with an open run of missing values after a known value (the only ones that can block). */
  private open = 0;
  /** Columns with an open run, including the runs from row 0. */
  private runs: number;
  imputed = 0;
  ledger: CountLedger | undefined;

  constructor(
    private readonly next: SlotSink,
    private readonly width: number,
    private readonly sensors: number,
    private readonly maxGap: number,
    method: 'linear' | 'ffill',
  ) {
    this.cap = maxGap + 2;
    this.times = new Float64Array(this.cap);
    this.data = new Float64Array(this.cap * width);
    this.runStart = new Float64Array(sensors);
    this.runs = sensors;
    this.linear = method === 'linear';
  }

  /** Where the next row's values go in `data`. */
  nextBase(): number {
    return this.slot * this.width;
  }

  /**
   * Takes the row written at nextBase() as the row at time t, fills the runs it closes, hands on
   * what is settled. `complete`: the caller knows no sensor value of the row is missing; with no
   * run open either, there is nothing to look at per column.
   */
  commit(t: number, complete = false): void {
    const i = this.idx++;
    const sl = this.slot;
    if (++this.slot === this.cap) this.slot = 0;
    this.times[sl] = t;
    if (!complete || this.runs > 0) {
      const data = this.data;
      const runStart = this.runStart;
      const base = sl * this.width;
      for (let j = 0; j < this.sensors; j++) {
        const x = data[base + j];
        const rs = runStart[j];
        if (x === x) {
          if (rs >= 0) this.closeRun(j, rs, i, x, t);
        } else if (rs < 0) {
          runStart[j] = i;
          this.open++;
          this.runs++;
        }
      }
    }
    this.drain(false);
  }

  /** Column j is known again at row i (value x, time t) after missing since row rs: fills the run when it is short enough. */
  private closeRun(j: number, rs: number, i: number, x: number, t: number): void {
    this.runStart[j] = -1;
    this.runs--;
    if (rs === 0) return;
    this.open--;
    if (i - rs > this.maxGap) return;
    const w = this.width;
    const data = this.data;
    const cap = this.cap;
    const known = (rs - 1) % cap;
    const v0 = data[known * w + j];
    const t0 = this.times[known];
    for (let r = rs; r < i; r++) {
      const sl = r % cap;
      data[sl * w + j] = this.linear && t > t0 ? v0 + ((x - v0) * (this.times[sl] - t0)) / (t - t0) : v0;
      this.imputed++;
      if (this.ledger) this.ledger.note(COUNT_IMPUTED, this.times[sl], 1);
    }
  }

  private drain(final: boolean): void {
    while (this.head < this.idx) {
      const h = this.head;
      if (!final && this.open > 0) {
        let blocked = false;
        for (let j = 0; j < this.sensors; j++) {
          const rs = this.runStart[j];
          if (rs > 0 && rs <= h && this.idx - rs <= this.maxGap) {
            blocked = true;
            break;
          }
        }
        if (blocked) return;
      }
      const slot = this.headSlot;
      this.head++;
      if (++this.headSlot === this.cap) this.headSlot = 0;
      this.next.pushSlot(this.times[slot], this.data, slot * this.width);
    }
  }

  /** Hands on every row left (their open runs stay missing), then ends the chain. */
  finish(): void {
    this.drain(true);
    this.next.end();
  }
}

/** Fills runs of at most maxGap missing values between two known ones (linear in time, or the last value). Holds at most maxGap + 1 rows. */
export class ImputeStage implements RowSink {
  private readonly ring: ImputationRing;

  constructor(next: RowSink, private readonly width: number, sensors: number, maxGap: number, method: 'linear' | 'ffill') {
    this.ring = new ImputationRing(new SlotToRow(next, width), width, sensors, maxGap, method);
  }

  get imputed(): number {
    return this.ring.imputed;
  }

  set ledger(ledger: CountLedger | undefined) {
    this.ring.ledger = ledger;
  }

  push(t: number, row: Float64Array): void {
    const base = this.ring.nextBase();
    for (let c = 0; c < this.width; c++) this.ring.data[base + c] = row[c];
    this.ring.commit(t);
  }

  end(): void {
    this.ring.finish();
  }
}

/**
 * The common recipe's steps after sorting (drop duplicates, resample, impute) in one stage: the
 * same arithmetic, in the same order, as DedupeStage -> ResampleStage -> ImputeStage, but
 * resampled rows are written straight into the imputation ring and rows leave from there in
 * place, so a row is copied once (into the duplicate group) instead of once per step, and there
 * are no calls between the steps. Memory is the same fixed set of buffers as the three stages.
 */
export class CleanStage implements RowSink, SlotSink {
  private static readonly GROUP = 256;
  // Dropping duplicates: the rows seen at the current timestamp.
  private readonly group: Float64Array;
  private groupCount = 0;
  private groupT = Number.NaN;
  // Resampling: the current bucket's sums and counts per column.
  private cur = Number.NaN;
  private readonly sums: Float64Array;
  private readonly counts: Float64Array;
  // Imputation, whose ring the resampled rows are written into.
  private readonly ring: ImputationRing;
  private countLedger: CountLedger | undefined;
  dropped = 0;
  emptyBuckets = 0;
  gapsLeft = 0;
  /** Empty buckets of the gaps left: the rows maxEmptyBuckets kept out of the output. */
  bucketsRefused = 0;

  constructor(
    next: SlotSink,
    private readonly width: number,
    private readonly sensors: number,
    private readonly intervalMs: number,
    private readonly maxEmpty: number,
    maxGap: number,
    method: 'linear' | 'ffill',
  ) {
    this.group = new Float64Array(CleanStage.GROUP * width);
    this.sums = new Float64Array(width);
    this.counts = new Float64Array(width);
    this.ring = new ImputationRing(next, width, sensors, maxGap, method);
  }

  get imputed(): number {
    return this.ring.imputed;
  }

  set ledger(ledger: CountLedger | undefined) {
    this.countLedger = ledger;
    this.ring.ledger = ledger;
  }

  push(t: number, row: Float64Array): void {
    this.pushSlot(t, row, 0);
  }

  pushSlot(t: number, row: Float64Array, base: number): void {
    const w = this.width;
    const group = this.group;
    // Drop duplicates (as DedupeStage).
    if (t !== this.groupT) {
      this.groupT = t;
      for (let i = 0; i < w; i++) group[i] = row[base + i];
      this.groupCount = 1;
    } else {
      for (let g = 0; g < this.groupCount; g++) {
        const gb = g * w;
        let same = true;
        for (let i = 0; i < w; i++) {
          const a = group[gb + i];
          const b = row[base + i];
          if (a !== b && !(a !== a && b !== b)) {
            same = false;
            break;
          }
        }
        if (same) {
          this.dropped++;
          if (this.countLedger) this.countLedger.note(COUNT_DROPPED, t, 1);
          return;
        }
      }
      if (this.groupCount < CleanStage.GROUP) {
        const gb = this.groupCount++ * w;
        for (let i = 0; i < w; i++) group[gb + i] = row[base + i];
      }
    }
    // Resample (as ResampleStage): a new bucket closes the current one and any empty ones between.
    const bucket = Math.floor(t / this.intervalMs);
    const first = bucket !== this.cur;
    if (first) {
      if (this.cur === this.cur) {
        this.closeBucket();
        const gap = bucket - this.cur - 1;
        if (gap > 0 && gap <= this.maxEmpty) {
          if (this.countLedger) this.countLedger.note(COUNT_EMPTY_BUCKETS, (this.cur + 1) * this.intervalMs, gap);
          for (let g = 1; g <= gap; g++) this.emptyRow((this.cur + g) * this.intervalMs);
          this.emptyBuckets += gap;
        } else if (gap > 0) {
          this.gapsLeft++;
          this.bucketsRefused += gap;
          if (this.countLedger) {
            this.countLedger.note(COUNT_GAPS_LEFT, (this.cur + 1) * this.intervalMs, 1);
            this.countLedger.note(COUNT_BUCKETS_REFUSED, (this.cur + 1) * this.intervalMs, gap);
          }
        }
      }
      this.cur = bucket;
    }
    const sums = this.sums;
    const counts = this.counts;
    const s = this.sensors;
    if (first) {
      // The bucket's first row sets the sums and counts (0 + x: what adding to cleared sums gives).
      for (let i = 0; i < s; i++) {
        const x = row[base + i];
        if (x === x) {
          sums[i] = 0 + x;
          counts[i] = 1;
        } else {
          sums[i] = 0;
          counts[i] = 0;
        }
      }
      if (w > s) {
        const x = row[base + s];
        sums[s] = x === x ? x : 0;
        counts[s] = x === x ? 1 : 0;
      }
      return;
    }
    for (let i = 0; i < s; i++) {
      const x = row[base + i];
      if (x !== x) continue;
      sums[i] += x;
      counts[i]++;
    }
    if (w > s) {
      const x = row[base + s];
      if (x === x) {
        sums[s] = counts[s] > 0 ? Math.max(sums[s], x) : x;
        counts[s]++;
      }
    }
  }

  /** Writes the current bucket's means (label: maximum) as the next row of the imputation ring. */
  private closeBucket(): void {
    const w = this.width;
    const s = this.sensors;
    const base = this.ring.nextBase();
    const data = this.ring.data;
    const sums = this.sums;
    const counts = this.counts;
    // A mean of one value is that value (x / 1 is x): most buckets hold one row. The sums and
    // counts are not cleared: the next bucket's first row sets them.
    let complete = true;
    for (let c = 0; c < s; c++) {
      const n = counts[c];
      if (n === 1) data[base + c] = sums[c];
      else if (n > 0) data[base + c] = sums[c] / n;
      else {
        data[base + c] = Number.NaN;
        complete = false;
      }
    }
    if (w > s) data[base + s] = counts[s] > 0 ? sums[s] : Number.NaN;
    this.ring.commit(this.cur * this.intervalMs, complete);
  }

  /** An empty bucket: a row of missing values. */
  private emptyRow(t: number): void {
    const base = this.ring.nextBase();
    this.ring.data.fill(Number.NaN, base, base + this.width);
    this.ring.commit(t);
  }

  end(): void {
    if (this.cur === this.cur) this.closeBucket();
    this.ring.finish();
  }
}

/** Hands rows given in place on to a RowSink chain, copied into one reused array. */
export class SlotToRow implements SlotSink {
  private readonly row: Float64Array;
  constructor(
    private readonly next: RowSink,
    private readonly width: number,
  ) {
    this.row = new Float64Array(width);
  }
  pushSlot(t: number, data: Float64Array, base: number): void {
    for (let i = 0; i < this.width; i++) this.row[i] = data[base + i];
    this.next.push(t, this.row);
  }
  end(): void {
    this.next.end();
  }
}

/** Applies (x - center) / scale to each sensor column. */
export class ScaleStage implements RowSink {
  private readonly center: Float64Array;
  private readonly scale: Float64Array;
  private readonly out: Float64Array;

  constructor(
    private readonly next: RowSink,
    private readonly width: number,
    names: readonly string[],
    params: ScaleParams,
  ) {
    this.center = Float64Array.from(names, (n) => params[n]?.center ?? 0);
    this.scale = Float64Array.from(names, (n) => params[n]?.scale || 1);
    this.out = new Float64Array(width);
  }

  push(t: number, row: Float64Array): void {
    const s = this.center.length;
    for (let i = 0; i < s; i++) this.out[i] = (row[i] - this.center[i]) / this.scale[i];
    for (let i = s; i < this.width; i++) this.out[i] = row[i];
    this.next.push(t, this.out);
  }

  end(): void {
    this.next.end();
  }
}

/** Rolling statistics over the last `window` rows of chosen columns, appended after the row's own values. Missing values are skipped. */
export class WindowStage implements RowSink {
  private readonly out: Float64Array;
  private readonly ring: Float64Array;
  private readonly sum: Float64Array;
  private readonly sumSq: Float64Array;
  private readonly n: Float64Array;
  private readonly ref: Float64Array;
  /** Monotonic deques of row indices (per column, `window` slots each): max first, then min. */
  private readonly maxQ: Float64Array;
  private readonly minQ: Float64Array;
  private readonly maxHead: Int32Array;
  private readonly maxLen: Int32Array;
  private readonly minHead: Int32Array;
  private readonly minLen: Int32Array;
  private i = 0;
  /** Stats as codes (0 mean, 1 std, 2 min, 3 max), and whether the deques are needed at all. */
  private readonly codes: Int8Array;
  private readonly wantMin: boolean;
  private readonly wantMax: boolean;

  constructor(
    private readonly next: RowSink,
    private readonly width: number,
    private readonly columns: readonly number[],
    private readonly window: number,
    stats: readonly WindowStat[],
  ) {
    this.codes = Int8Array.from(stats, (st) => ['mean', 'std', 'min', 'max'].indexOf(st));
    this.wantMin = stats.includes('min');
    this.wantMax = stats.includes('max');
    const c = columns.length;
    this.out = new Float64Array(width + c * stats.length);
    this.ring = new Float64Array(c * window).fill(Number.NaN);
    this.sum = new Float64Array(c);
    this.sumSq = new Float64Array(c);
    this.n = new Float64Array(c);
    this.ref = new Float64Array(c).fill(Number.NaN);
    this.maxQ = new Float64Array(c * window);
    this.minQ = new Float64Array(c * window);
    this.maxHead = new Int32Array(c);
    this.maxLen = new Int32Array(c);
    this.minHead = new Int32Array(c);
    this.minLen = new Int32Array(c);
  }

  push(t: number, row: Float64Array): void {
    const W = this.window;
    const i = this.i++;
    // The row's place in each column's ring (one division per row, not per column).
    const r = i % W;
    const { out, ring, sum, sumSq, n: count, ref, codes, columns, width } = this;
    const stats = codes.length;
    for (let k = 0; k < width; k++) out[k] = row[k];
    let o = width;
    for (let c = 0; c < columns.length; c++) {
      const x = row[columns[c]];
      const slot = c * W + r;
      const old = ring[slot];
      let s = sum[c];
      let ss = sumSq[c];
      let n = count[c];
      let base = ref[c];
      if (old === old) {
        const d = old - base;
        s -= d;
        ss -= d * d;
        n--;
      }
      ring[slot] = x;
      if (x === x) {
        if (base !== base) base = ref[c] = x;
        const d = x - base;
        s += d;
        ss += d * d;
        n++;
      }
      // Every W rows, re-centre the sums on the window's mean (O(1) a row on average): deviations
      // from a value the level has long drifted away from would cost the std its digits.
      if (r === W - 1 && n > 0) {
        base = ref[c] = base + s / n;
        s = 0;
        ss = 0;
        for (let j = c * W, e = j + W; j < e; j++) {
          const v = ring[j];
          if (v === v) {
            const d = v - base;
            s += d;
            ss += d * d;
          }
        }
      }
      sum[c] = s;
      sumSq[c] = ss;
      count[c] = n;
      const max = this.wantMax ? this.monotonic(this.maxQ, this.maxHead, this.maxLen, c, i, x, true) : Number.NaN;
      const min = this.wantMin ? this.monotonic(this.minQ, this.minHead, this.minLen, c, i, x, false) : Number.NaN;
      for (let k = 0; k < stats; k++) {
        const code = codes[k];
        if (code === 0) out[o++] = n > 0 ? base + s / n : Number.NaN;
        else if (code === 1) out[o++] = n > 1 ? Math.sqrt(Math.max(0, (ss - (s * s) / n) / (n - 1))) : Number.NaN;
        else if (code === 2) out[o++] = min;
        else out[o++] = max;
      }
    }
    this.next.push(t, out);
  }

  /** Pushes row i into column c's deque and returns the window's extreme. */
  private monotonic(q: Float64Array, head: Int32Array, len: Int32Array, c: number, i: number, x: number, isMax: boolean): number {
    const W = this.window;
    const base = c * W;
    while (len[c] > 0 && q[base + head[c]] <= i - W) {
      head[c] = (head[c] + 1) % W;
      len[c]--;
    }
    if (x === x) {
      while (len[c] > 0) {
        const back = q[base + ((head[c] + len[c] - 1) % W)];
        const v = this.ring[base + (back % W)];
        if (isMax ? v <= x : v >= x) len[c]--;
        else break;
      }
      q[base + ((head[c] + len[c]) % W)] = i;
      len[c]++;
    }
    return len[c] > 0 ? this.ring[base + (q[base + head[c]] % W)] : Number.NaN;
  }

  end(): void {
    this.next.end();
  }
}

/** Fits scaling parameters on the rows it sees (Welford mean and variance, min, max). */
export class ScaleFitSink implements RowSink {
  private readonly count: Float64Array;
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;
  private readonly min: Float64Array;
  private readonly max: Float64Array;

  constructor(private readonly names: readonly string[]) {
    const s = names.length;
    this.count = new Float64Array(s);
    this.mean = new Float64Array(s);
    this.m2 = new Float64Array(s);
    this.min = new Float64Array(s).fill(Infinity);
    this.max = new Float64Array(s).fill(-Infinity);
  }

  push(_t: number, row: Float64Array): void {
    for (let i = 0; i < this.names.length; i++) {
      const x = row[i];
      if (x !== x) continue;
      const n = ++this.count[i];
      const d = x - this.mean[i];
      this.mean[i] += d / n;
      this.m2[i] += d * (x - this.mean[i]);
      if (x < this.min[i]) this.min[i] = x;
      if (x > this.max[i]) this.max[i] = x;
    }
  }

  end(): void {}

  params(method: 'zscore' | 'minmax'): ScaleParams {
    const out: ScaleParams = {};
    this.names.forEach((name, i) => {
      const n = this.count[i];
      if (n === 0) out[name] = { center: 0, scale: 1 };
      else if (method === 'zscore') out[name] = { center: this.mean[i], scale: n > 1 ? Math.sqrt(this.m2[i] / (n - 1)) : 1 };
      else out[name] = { center: this.min[i], scale: this.max[i] - this.min[i] };
    });
    return out;
  }
}
