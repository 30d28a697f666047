import type { FindingRange } from './quality-report.js';
import { isoOrNull } from './timestamp.js';

interface RawRange {
  fromLine: number;
  toLine: number;
  fromT: number;
  toT: number;
  count: number;
}

/** A recorder as plain JSON (times null where there is none), to merge recorders of consecutive chunks. */
export interface RangeState {
  count: number;
  truncated: boolean;
  /** Row (0-based, of its chunk) of the event that opened the first range; -1 when none or ranges came whole. */
  firstRow: number;
  /** Row of the last event (-2 when none); with firstRow, says whether the next chunk's first range continues it. */
  lastRow: number;
  ranges: { fromLine: number; toLine: number; fromT: number | null; toT: number | null; count: number }[];
}

const timeOrNull = (t: number): number | null => (Number.isFinite(t) ? t : null);

/** Collects where a check fires: consecutive rows merge into one range; past the cap only counts grow. */
export class RangeRecorder {
  count = 0;
  truncated = false;
  private readonly raw: RawRange[] = [];
  private lastRow = -2;
  private firstRow = -1;

  constructor(private readonly maxRanges: number) {}

  /** One event at data row `row` (0-based ordinal), file line `line`, time t. */
  add(row: number, line: number, t: number): void {
    this.count++;
    const last = this.raw[this.raw.length - 1];
    if (row === this.lastRow + 1 && last !== undefined && !this.truncated) {
      last.toLine = line;
      last.toT = t;
      last.count++;
    } else if (this.raw.length < this.maxRanges) {
      if (this.raw.length === 0) this.firstRow = row;
      this.raw.push({ fromLine: line, toLine: line, fromT: t, toT: t, count: 1 });
    } else this.truncated = true;
    this.lastRow = row;
  }

  /** A whole range at once (a flatline run, a gap). */
  addRange(fromLine: number, toLine: number, fromT: number, toT: number, count: number): void {
    this.count += count;
    if (this.raw.length < this.maxRanges) this.raw.push({ fromLine, toLine, fromT, toT, count });
    else this.truncated = true;
  }

  /**
   * Appends the recorder of the next chunk, whose rows and lines are shifted by the given offsets:
   * the result is what one recorder would hold after the events of both (a range of consecutive
   * rows running over the boundary stays one range; the cap applies to the whole).
   */
  append(state: RangeState, rowOffset: number, lineOffset: number): void {
    state.ranges.forEach((r, i) => {
      const fromT = r.fromT ?? Number.NaN;
      const toT = r.toT ?? Number.NaN;
      const last = this.raw[this.raw.length - 1];
      if (i === 0 && state.firstRow >= 0 && state.firstRow + rowOffset === this.lastRow + 1 && last !== undefined && !this.truncated) {
        last.toLine = r.toLine + lineOffset;
        last.toT = toT;
        last.count += r.count;
      } else if (this.raw.length < this.maxRanges) {
        if (this.raw.length === 0 && i === 0 && state.firstRow >= 0) this.firstRow = state.firstRow + rowOffset;
        this.raw.push({ fromLine: r.fromLine + lineOffset, toLine: r.toLine + lineOffset, fromT, toT, count: r.count });
      } else this.truncated = true;
    });
    this.count += state.count;
    if (state.truncated) this.truncated = true;
    if (state.lastRow >= 0) this.lastRow = state.lastRow + rowOffset;
  }

  toJSON(): RangeState {
    return {
      count: this.count,
      truncated: this.truncated,
      firstRow: this.firstRow,
      lastRow: this.lastRow,
      ranges: this.raw.map((r) => ({ fromLine: r.fromLine, toLine: r.toLine, fromT: timeOrNull(r.fromT), toT: timeOrNull(r.toT), count: r.count })),
    };
  }

  get ranges(): FindingRange[] {
    return this.raw.map((r) => ({ fromLine: r.fromLine, toLine: r.toLine, start: isoOrNull(r.fromT), end: isoOrNull(r.toT), count: r.count }));
  }
}
