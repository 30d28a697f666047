import type { FindingRange } from './quality-report.js';
import { isoOrNull } from './timestamp.js';

interface RawRange {
  fromLine: number;
  toLine: number;
  fromT: number;
  toT: number;
  count: number;
}

/** Collects where a check fires: consecutive rows merge into one range; past the cap only counts grow. */
export class RangeRecorder {
  count = 0;
  truncated = false;
  private readonly raw: RawRange[] = [];
  private lastRow = -2;

  constructor(private readonly maxRanges: number) {}

  /** One event at data row `row` (0-based ordinal), file line `line`, time t. */
  add(row: number, line: number, t: number): void {
    this.count++;
    const last = this.raw[this.raw.length - 1];
    if (row === this.lastRow + 1 && last !== undefined && !this.truncated) {
      last.toLine = line;
      last.toT = t;
      last.count++;
    } else if (this.raw.length < this.maxRanges) this.raw.push({ fromLine: line, toLine: line, fromT: t, toT: t, count: 1 });
    else this.truncated = true;
    this.lastRow = row;
  }

  /** A whole range at once (a flatline run, a gap). */
  addRange(fromLine: number, toLine: number, fromT: number, toT: number, count: number): void {
    this.count += count;
    if (this.raw.length < this.maxRanges) this.raw.push({ fromLine, toLine, fromT, toT, count });
    else this.truncated = true;
  }

  get ranges(): FindingRange[] {
    return this.raw.map((r) => ({ fromLine: r.fromLine, toLine: r.toLine, start: isoOrNull(r.fromT), end: isoOrNull(r.toT), count: r.count }));
  }
}
