/** Reading one cell as a number. The result's status is left in lastCellStatus() to avoid allocating per cell. */

export const CELL_OK = 0;
export const CELL_MISSING = 1;
export const CELL_INVALID = 2;
export type CellStatus = 0 | 1 | 2;

let status: CellStatus = CELL_OK;

export function lastCellStatus(): CellStatus {
  return status;
}

const MISSING_TOKENS = new Set(['', 'na', 'n/a', 'nan', 'null', 'none', '-', '?', '#n/a', 'missing']);

/** A numeric cell: numbers and numeric text (with `.` decimals) are values; empty, NA, null and the like are missing. */
export function numberFromCell(cell: unknown): number {
  if (typeof cell === 'string') {
    const c = cell.charCodeAt(0);
    // Fast path: starts like a number and converts. Number('') and Number(' ') are 0, hence the first-char test.
    if ((c >= 48 && c <= 57) || c === 45 || c === 46 || c === 43) {
      const x = Number(cell);
      if (x === x && x !== Infinity && x !== -Infinity) {
        status = CELL_OK;
        return x;
      }
    }
    return slowNumber(cell);
  }
  if (typeof cell === 'number') {
    if (Number.isFinite(cell)) {
      status = CELL_OK;
      return cell;
    }
    status = Number.isNaN(cell) ? CELL_MISSING : CELL_INVALID;
    return Number.NaN;
  }
  if (cell === null || cell === undefined) {
    status = CELL_MISSING;
    return Number.NaN;
  }
  if (typeof cell === 'boolean') {
    status = CELL_OK;
    return cell ? 1 : 0;
  }
  status = CELL_INVALID;
  return Number.NaN;
}

/** The powers of ten that doubles hold exactly (to 1e22): dividing an exact integer by one is correctly rounded. */
export const EXACT_POW10 = Float64Array.of(1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22);

/**
 * The number in bytes [start, end), read in place. Plain decimals with at most 15 digits take
 * Clinger's fast path (integer mantissa divided by an exact power of ten: correctly rounded, so
 * the same double Number() gives); anything else falls back to the text path.
 */
export function numberFromBytes(b: Uint8Array, start: number, end: number): number {
  if (start >= end) {
    status = CELL_MISSING;
    return Number.NaN;
  }
  let i = start;
  let c = b[i];
  let neg = false;
  if (c === 45) {
    neg = true;
    i++;
  } else if (c === 43) i++;
  let m = 0;
  let digits = 0;
  let frac = -1;
  for (; i < end; i++) {
    c = b[i];
    if (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
      if (frac >= 0) frac++;
    } else if (c === 46 && frac < 0) frac = 0;
    else break;
  }
  if (i === end && digits > 0 && digits <= 15) {
    status = CELL_OK;
    const v = frac > 0 ? m / EXACT_POW10[frac] : m;
    return neg ? -v : v;
  }
  return slowNumber(Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('utf8'));
}

function slowNumber(cell: string): number {
  const t = cell.trim();
  if (MISSING_TOKENS.has(t.toLowerCase())) {
    status = CELL_MISSING;
    return Number.NaN;
  }
  const c = t.charCodeAt(0);
  if ((c >= 48 && c <= 57) || c === 45 || c === 46 || c === 43) {
    const x = Number(t);
    if (Number.isFinite(x)) {
      status = CELL_OK;
      return x;
    }
  }
  const lower = t.toLowerCase();
  if (lower === 'true' || lower === 'false') {
    status = CELL_OK;
    return lower === 'true' ? 1 : 0;
  }
  status = CELL_INVALID;
  return Number.NaN;
}

/** Cell text for messages: strings as they are (cut to 80 chars), other values as JSON. */
export function cellText(cell: unknown): string {
  const s = typeof cell === 'string' ? cell : cell === undefined ? '' : JSON.stringify(cell);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
