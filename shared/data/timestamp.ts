/**
 * Timestamps without Date objects: the parsers run once per row, so they read char codes and
 * compute epoch milliseconds with civil-calendar arithmetic.
 * Accepted: ISO 8601 (`2024-01-31T12:00:00Z`, `...+02:00`, fractions), `YYYY-MM-DD hh:mm:ss`,
 * `YYYY/MM/DD ...`, a bare date, and epoch numbers (seconds, ms, µs or ns, told apart by size).
 */

/** Whether the last parsed timestamp carried a zone (`Z` or an offset). Set by parseTimestamp. */
export const TIMESTAMP_NAIVE = 0;
export const TIMESTAMP_ZONED = 1;
export const TIMESTAMP_EPOCH = 2;
export const TIMESTAMP_INVALID = 3;
export type TimestampKind = 0 | 1 | 2 | 3;

let lastKind: TimestampKind = TIMESTAMP_INVALID;

/** Kind of the timestamp parsed by the last call of parseTimestamp / timestampFromCell. */
export function lastTimestampKind(): TimestampKind {
  return lastKind;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = m > 2 ? m - 3 : m + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Epoch number in s, ms, µs or ns, to ms. */
export function epochToMs(x: number): number {
  const a = Math.abs(x);
  if (a >= 1e17) return x / 1e6;
  if (a >= 1e14) return x / 1e3;
  if (a >= 1e11) return x;
  return x * 1000;
}

const scratch = Buffer.alloc(256);

/** Epoch ms of a timestamp string, or NaN. lastTimestampKind() tells if it had a zone. */
export function parseTimestamp(s: string): number {
  if (s.length > 64) {
    lastKind = TIMESTAMP_INVALID;
    return Number.NaN;
  }
  const n = scratch.write(s, 0, 'utf8');
  return parseTimestampBytes(scratch, 0, n);
}

function bdigits(b: Uint8Array, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = b[i + k] - 48;
    if (!(c >= 0 && c <= 9)) return -1;
    v = v * 10 + c;
  }
  return v;
}

let cachedYmd = -1;
let cachedDays = 0;

/** Epoch ms of the timestamp in bytes [start, end), or NaN; reads the bytes in place. */
export function parseTimestampBytes(b: Uint8Array, start: number, end: number): number {
  lastKind = TIMESTAMP_INVALID;
  let len = end;
  let i = start;
  while (i < len && b[i] === 32) i++;
  while (len > i && b[len - 1] === 32) len--;
  const sep = b[i + 4];
  if (len - i >= 10 && (sep === 45 /* - */ || sep === 47) /* / */) return parseCalendar(b, i, len, sep);
  // Epoch number: digits with an optional sign and fraction.
  if (len - i === 0 || len - i > 24) return Number.NaN;
  const c0 = b[i];
  if (!((c0 >= 48 && c0 <= 57) || c0 === 45 || c0 === 43)) return Number.NaN;
  const x = Number(Buffer.from(b.buffer, b.byteOffset + i, len - i).toString('latin1'));
  if (!Number.isFinite(x)) return Number.NaN;
  lastKind = TIMESTAMP_EPOCH;
  return epochToMs(x);
}

function parseCalendar(s: Uint8Array, i: number, len: number, sep: number): number {
  const y = bdigits(s, i, 4);
  const mo = bdigits(s, i + 5, 2);
  const d = bdigits(s, i + 8, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || s[i + 7] !== sep) return Number.NaN;
  const ymd = y * 10000 + mo * 100 + d;
  let ms: number;
  if (ymd === cachedYmd) ms = cachedDays;
  else {
    if (d > DAYS_IN_MONTH[mo] || (mo === 2 && d === 29 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)))) return Number.NaN;
    ms = daysFromCivil(y, mo, d) * 86_400_000;
    cachedYmd = ymd;
    cachedDays = ms;
  }
  let p = i + 10;
  if (p === len) {
    lastKind = TIMESTAMP_NAIVE;
    return ms;
  }
  const t = s[p];
  if (t !== 84 /* T */ && t !== 32 && t !== 116 /* t */) return Number.NaN;
  p++;
  const hh = bdigits(s, p, 2);
  if (hh < 0 || hh > 24 || s[p + 2] !== 58) return Number.NaN;
  const mm = bdigits(s, p + 3, 2);
  if (mm < 0 || mm > 59) return Number.NaN;
  p += 5;
  let ss = 0;
  if (p < len && s[p] === 58) {
    ss = bdigits(s, p + 1, 2);
    if (ss < 0 || ss > 60) return Number.NaN;
    p += 3;
    const dot = s[p];
    if (p < len && (dot === 46 || dot === 44)) {
      p++;
      let frac = 0;
      let scale = 1;
      let n = 0;
      while (p < len) {
        const c = s[p] - 48;
        if (!(c >= 0 && c <= 9)) break;
        if (n < 6) {
          frac = frac * 10 + c;
          scale *= 10;
        }
        n++;
        p++;
      }
      if (n === 0) return Number.NaN;
      ms += (frac / scale) * 1000;
    }
  }
  if (hh === 24 && (mm !== 0 || ss !== 0)) return Number.NaN;
  ms += hh * 3_600_000 + mm * 60_000 + ss * 1000;
  if (p === len) {
    lastKind = TIMESTAMP_NAIVE;
    return ms;
  }
  const z = s[p];
  if ((z === 90 || z === 122) && p + 1 === len) {
    lastKind = TIMESTAMP_ZONED;
    return ms;
  }
  if (z === 32 && len - p === 4 && s[p + 1] === 85 && s[p + 2] === 84 && s[p + 3] === 67) {
    lastKind = TIMESTAMP_ZONED;
    return ms;
  }
  if (z !== 43 && z !== 45) return Number.NaN;
  const oh = bdigits(s, p + 1, 2);
  let om = 0;
  const rest = len - p - 3;
  if (oh < 0 || oh > 23) return Number.NaN;
  if (rest === 3 && s[p + 3] === 58) om = bdigits(s, p + 4, 2);
  else if (rest === 2) om = bdigits(s, p + 3, 2);
  else if (rest !== 0) return Number.NaN;
  if (om < 0 || om > 59) return Number.NaN;
  const offset = (oh * 60 + om) * 60_000;
  lastKind = TIMESTAMP_ZONED;
  return z === 43 ? ms - offset : ms + offset;
}

let isoEnd = 0;
// The date of the last parseIsoField, as its digit bytes (YYYY and MMDD packed), and its epoch ms.
let isoKeyYear = -1;
let isoKeyMonthDay = -1;
let isoDayMs = 0;

/** Where the field read by the last successful parseIsoField ends: its delimiter, line feed, CR of a CR LF, or the end of the bytes. */
export function isoFieldEnd(): number {
  return isoEnd;
}

/**
 * The common layout read where a CSV field starts, without first looking for the field's end:
 * `YYYY-MM-DDThh:mm:ss` (or a space for the T), an optional fraction, an optional Z, then the
 * field's end (the delimiter, a line feed, CR LF, or the end of the bytes). The date's epoch ms
 * is kept for the next row, found again by comparing its digit bytes. Anything else (offsets,
 * hour 24, leap seconds, spaces, another layout) gives NaN without reading further, and the
 * caller then takes the general way (parseTimestampBytes); what is read here is read the same as
 * there, to the same number. lastTimestampKind() is set only on success.
 */
export function parseIsoField(b: Uint8Array, i: number, n: number, delimiter: number): number {
  if (i + 19 > n || b[i + 4] !== 45 || b[i + 7] !== 45 || b[i + 13] !== 58 || b[i + 16] !== 58) return Number.NaN;
  const t = b[i + 10];
  if (t !== 84 && t !== 32) return Number.NaN;
  const year = (b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3];
  const monthDay = (b[i + 5] << 24) | (b[i + 6] << 16) | (b[i + 8] << 8) | b[i + 9];
  let ms: number;
  if (year === isoKeyYear && monthDay === isoKeyMonthDay) ms = isoDayMs;
  else {
    const y = bdigits(b, i, 4);
    const mo = bdigits(b, i + 5, 2);
    const d = bdigits(b, i + 8, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > DAYS_IN_MONTH[mo] || (mo === 2 && d === 29 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)))) return Number.NaN;
    ms = daysFromCivil(y, mo, d) * 86_400_000;
    isoKeyYear = year;
    isoKeyMonthDay = monthDay;
    isoDayMs = ms;
  }
  const h1 = b[i + 11] - 48;
  const h2 = b[i + 12] - 48;
  const m1 = b[i + 14] - 48;
  const m2 = b[i + 15] - 48;
  const s1 = b[i + 17] - 48;
  const s2 = b[i + 18] - 48;
  if (!(h1 >= 0 && h1 <= 2 && h2 >= 0 && h2 <= 9 && m1 >= 0 && m1 <= 5 && m2 >= 0 && m2 <= 9 && s1 >= 0 && s1 <= 5 && s2 >= 0 && s2 <= 9)) return Number.NaN;
  const hh = h1 * 10 + h2;
  if (hh > 23) return Number.NaN;
  let p = i + 19;
  let c = p < n ? b[p] : 10;
  if (c === 46 || (c === 44 && c !== delimiter)) {
    // As parseCalendar: up to 6 digits count, added before the time of day.
    let frac = 0;
    let scale = 1;
    let digits = 0;
    for (;;) {
      c = ++p < n ? b[p] : 10;
      const v = c - 48;
      if (!(v >= 0 && v <= 9)) break;
      if (digits < 6) {
        frac = frac * 10 + v;
        scale *= 10;
      }
      digits++;
    }
    if (digits === 0) return Number.NaN;
    ms += (frac / scale) * 1000;
  }
  let kind: TimestampKind = TIMESTAMP_NAIVE;
  if (c === 90) {
    kind = TIMESTAMP_ZONED;
    c = ++p < n ? b[p] : 10;
  }
  if (!(c === delimiter || c === 10 || (c === 13 && (p + 1 >= n || b[p + 1] === 10)))) return Number.NaN;
  isoEnd = p;
  lastKind = kind;
  return ms + (hh * 3_600_000 + (m1 * 10 + m2) * 60_000 + (s1 * 10 + s2) * 1000);
}

/** Epoch ms of a cell that may be a string or a number (JSON Lines), or NaN. */
export function timestampFromCell(cell: unknown): number {
  if (typeof cell === 'string') return parseTimestamp(cell);
  if (typeof cell === 'number' && Number.isFinite(cell)) {
    lastKind = TIMESTAMP_EPOCH;
    return epochToMs(cell);
  }
  lastKind = TIMESTAMP_INVALID;
  return Number.NaN;
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
let cachedDay = Number.NaN;
let cachedDayText = '';

/** ISO 8601 UTC (`2024-01-31T12:00:00Z`, milliseconds only when present); caches the date part. */
export function formatTimestamp(value: number): string {
  const ms = Math.round(value);
  const day = Math.floor(ms / 86_400_000);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDayText = new Date(day * 86_400_000).toISOString().slice(0, 11);
  }
  let rem = ms - day * 86_400_000;
  const h = Math.floor(rem / 3_600_000);
  rem -= h * 3_600_000;
  const m = Math.floor(rem / 60_000);
  rem -= m * 60_000;
  const sec = Math.floor(rem / 1000);
  const milli = Math.round(rem - sec * 1000);
  const base = `${cachedDayText}${pad2(h)}:${pad2(m)}:${pad2(sec)}`;
  if (milli === 0) return `${base}Z`;
  return `${base}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

/** ISO text of epoch ms, or null for NaN (JSON has no NaN). */
export function isoOrNull(ms: number): string | null {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}
