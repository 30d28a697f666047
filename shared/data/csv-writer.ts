/**
 * CSV output straight into byte buffers: numbers and timestamps are printed digit by digit
 * into a preallocated Buffer, so writing a row makes no strings (Number#toString and string
 * concatenation cost several times more per value). Full buffers are handed to the Writable.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';

const POW10 = Float64Array.from({ length: 40 }, (_, i) => 10 ** i);
/** "00" to "99" as ASCII pairs. */
const PAIRS = Uint8Array.from({ length: 200 }, (_, i) => 48 + (i & 1 ? (i >> 1) % 10 : Math.floor((i >> 1) / 10)));
const NEG10 = Float64Array.from({ length: 40 }, (_, i) => 10 ** -i);
const CHUNK = 1 << 18;
/** Bytes gathered before they are handed to the Writable (which then applies its back-pressure). */
const FLUSH_AT = 1 << 16;

/**
 * Math.round(y) for y = 0 or 0.5 <= y < 2^52, as floor(y + 0.5): the same integer (the sum is
 * exact, or rounds to a double with the same floor), without the branch on the fraction that
 * Math.round compiles to, which values with random fractions mispredict half the time.
 */
function roundPositive(y: number): number {
  return Math.floor(y + 0.5);
}

/** How many decimal digits a non-negative integer below 2^31 has (1 for 0). */
function digitCount(v: number): number {
  if (v < 10_000) return v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : 4;
  if (v < 100_000_000) return v < 100_000 ? 5 : v < 1_000_000 ? 6 : v < 10_000_000 ? 7 : 8;
  return v < 1_000_000_000 ? 9 : 10;
}

/** Writes the last `len` decimal digits of v (zero-padded) to end just before `end`, two at a time. */
function putDigits(buf: Uint8Array, end: number, v: number, len: number): void {
  let p = end;
  while (len >= 2) {
    const q = (v / 100) | 0;
    const d = (v - q * 100) << 1;
    buf[--p] = PAIRS[d + 1];
    buf[--p] = PAIRS[d];
    v = q;
    len -= 2;
  }
  if (len > 0) buf[p - 1] = 48 + v;
}

/** Writes the n digits of hi * 10^8 + lo (hi 0, or lo taken as eight digits) at pos; returns pos + n. */
function putMantissa(buf: Uint8Array, pos: number, hi: number, lo: number, n: number): number {
  const end = pos + n;
  if (hi > 0) {
    putDigits(buf, end, lo, 8);
    putDigits(buf, end - 8, hi, n - 8);
  } else putDigits(buf, end, lo, n);
  return end;
}

export class CsvByteWriter {
  private buf = Buffer.allocUnsafe(CHUNK);
  private pos = 0;
  private readonly digits = new Uint8Array(32);
  private readonly pending: Buffer[] = [];
  /** Epoch ms of the start of the day in dayBytes (NaN before the first timestamp). */
  private dayStart = Number.NaN;
  private readonly dayBytes = Buffer.alloc(11);

  constructor(private readonly out: Writable) {}

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.pending.push(Buffer.from(this.buf.subarray(0, this.pos)));
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
    this.pos = 0;
  }

  text(s: string): void {
    const n = Buffer.byteLength(s);
    this.room(n);
    this.pos += this.buf.write(s, this.pos);
  }

  byte(c: number): void {
    this.room(1);
    this.buf[this.pos++] = c;
  }

  /** A comma and then number(x, significant): one call per CSV field. */
  field(x: number, significant: number): void {
    this.room(1);
    this.buf[this.pos++] = 44;
    this.number(x, significant);
  }

  /**
   * A CSV row: the timestamp, then a comma and each of data[base, base + width) as number()
   * writes it, then a line feed; the same bytes as timestamp(), field() per value and byte(10).
   * Room for the row is made once, and values with few decimals below 2147 (most sensor values)
   * are written here without a call; the others go through number(). Returns how many of the
   * values were missing (NaN, written as nothing).
   */
  row(t: number, data: Float64Array, base: number, width: number, significant: number): number {
    this.room(33 + width * 49);
    this.timestamp(t);
    let buf = this.buf;
    const tolerance = 0.5 * NEG10[significant];
    let pos = this.pos;
    let missing = 0;
    for (let i = 0; i < width; i++) {
      buf[pos++] = 44;
      let x = data[base + i];
      if (x !== x) {
        missing++;
        continue;
      }
      const start = pos;
      if (x < 0) {
        buf[pos++] = 45;
        x = -x;
      }
      // number()'s first path, for the same values: x * 10^6 within the precision of an integer below 2^31.
      if ((x >= 1e-6 || x === 0) && x < 2147.483647) {
        const y = x * 1e6;
        const r = roundPositive(y);
        if (Math.abs(y - r) <= y * tolerance) {
          // r < 2^31: from here on int32 arithmetic, whose divisions by constants are multiplications.
          const ri = r | 0;
          const ip = (ri / 1000000) | 0;
          const f = ri - ip * 1000000;
          if (ip >= 100) {
            const hi = (ip / 100) | 0;
            const lo = (ip - hi * 100) << 1;
            if (hi >= 10) {
              buf[pos++] = PAIRS[hi << 1];
              buf[pos++] = PAIRS[(hi << 1) + 1];
            } else buf[pos++] = 48 + hi;
            buf[pos++] = PAIRS[lo];
            buf[pos++] = PAIRS[lo + 1];
          } else if (ip >= 10) {
            buf[pos++] = PAIRS[ip << 1];
            buf[pos++] = PAIRS[(ip << 1) + 1];
          } else buf[pos++] = 48 + ip;
          if (f !== 0) {
            const a = (f / 10000) | 0;
            const bc = f - a * 10000;
            buf[pos++] = 46;
            buf[pos++] = PAIRS[a << 1];
            buf[pos++] = PAIRS[(a << 1) + 1];
            if (bc !== 0) {
              const b = (bc / 100) | 0;
              const c = bc - b * 100;
              buf[pos++] = PAIRS[b << 1];
              buf[pos++] = PAIRS[(b << 1) + 1];
              if (c !== 0) {
                buf[pos++] = PAIRS[c << 1];
                buf[pos++] = PAIRS[(c << 1) + 1];
              }
            }
            if (buf[pos - 1] === 48) pos--;
          }
          continue;
        }
      }
      if (x >= 1e-6 && x < 2147.483647) {
        // number() would test the same six decimals again: straight to its last path (the sign is written).
        pos = this.rounded(x, significant, pos);
        continue;
      }
      this.pos = start;
      this.number(data[base + i], significant);
      buf = this.buf;
      pos = this.pos;
    }
    buf[pos++] = 10;
    this.pos = pos;
    return missing;
  }

  /**
   * A finite number rounded to `significant` digits, in plain decimal notation where it fits
   * (1e-6 to 1e15), otherwise as JavaScript prints it; NaN writes nothing. Digits come from two
   * 32-bit halves of the rounded mantissa, so the arithmetic stays in small integers.
   */
  number(x: number, significant: number): void {
    if (x !== x) return;
    this.room(48);
    const buf = this.buf;
    const digits = this.digits;
    let pos = this.pos;
    if (x < 0) {
      buf[pos++] = 45;
      x = -x;
    }
    if (!(x >= 1e-6 && x < 1e15) && x !== 0) {
      this.pos = pos;
      this.text(`${Number(x.toPrecision(significant))}`);
      return;
    }
    // Values with few decimals (as typed in the source, or means of such) first: if x * 10^k is
    // an integer to within the requested precision, print that integer with k decimals, trailing
    // zeros dropped. One multiply and round; k is the largest of 6, 4, 2, 0 that keeps it in 31 bits.
    // Most sensor values are below 2147 (k = 6): for them the integer part and the six decimals are
    // written front to back two digits at a time, without the scratch array (the hottest path).
    if (x < 2147.483647) {
      const y = x * 1e6;
      const r = roundPositive(y);
      if (Math.abs(y - r) <= 0.5 * y * NEG10[significant]) {
        const ip = (r / 1e6) | 0;
        const f = r - ip * 1e6;
        if (ip >= 100) {
          const hi = (ip / 100) | 0;
          const lo = (ip - hi * 100) << 1;
          if (hi >= 10) {
            buf[pos++] = PAIRS[hi << 1];
            buf[pos++] = PAIRS[(hi << 1) + 1];
          } else buf[pos++] = 48 + hi;
          buf[pos++] = PAIRS[lo];
          buf[pos++] = PAIRS[lo + 1];
        } else if (ip >= 10) {
          buf[pos++] = PAIRS[ip << 1];
          buf[pos++] = PAIRS[(ip << 1) + 1];
        } else buf[pos++] = 48 + ip;
        if (f !== 0) {
          // Six decimals as three pairs, up to the last pair that is not 00; then at most one trailing 0 is left.
          const a = (f / 10000) | 0;
          const bc = f - a * 10000;
          const b = (bc / 100) | 0;
          const c = bc - b * 100;
          buf[pos++] = 46;
          buf[pos++] = PAIRS[a << 1];
          buf[pos++] = PAIRS[(a << 1) + 1];
          if (bc !== 0) {
            buf[pos++] = PAIRS[b << 1];
            buf[pos++] = PAIRS[(b << 1) + 1];
            if (c !== 0) {
              buf[pos++] = PAIRS[c << 1];
              buf[pos++] = PAIRS[(c << 1) + 1];
            }
          }
          if (buf[pos - 1] === 48) pos--;
        }
        this.pos = pos;
        return;
      }
    }
    // Below 2147.483647 the test with k = 6 is the one above: it failed.
    if (x >= 2147.483647 && x < 2147483647) {
      const k = x < 214748.3647 ? 4 : x < 21474836.47 ? 2 : 0;
      const y = x * POW10[k];
      const r = roundPositive(y);
      if (Math.abs(y - r) <= 0.5 * y * NEG10[significant]) {
        let v = r | 0;
        let n = 0;
        // Two digits per division, lowest first.
        while (v >= 100) {
          const q = (v / 100) | 0;
          const d = (v - q * 100) << 1;
          digits[n++] = PAIRS[d + 1];
          digits[n++] = PAIRS[d];
          v = q;
        }
        if (v >= 10) {
          digits[n++] = 48 + (v % 10);
          digits[n++] = 48 + ((v / 10) | 0);
        } else digits[n++] = 48 + v;
        while (n <= k) digits[n++] = 48;
        let low = 0;
        while (low < k && digits[low] === 48) low++;
        while (n > k) buf[pos++] = digits[--n];
        if (low < k) {
          buf[pos++] = 46;
          while (n > low) buf[pos++] = digits[--n];
        }
        this.pos = pos;
        return;
      }
    }
    this.pos = this.rounded(x, significant, pos);
  }

  /**
   * number()'s last path: x (1e-6 <= x < 1e15) rounded to `significant` digits, written at pos;
   * returns the position after it. The rounded mantissa's digits are written front to back, two
   * at a time, with the decimal point put in afterwards and trailing zeros of the fraction dropped.
   */
  private rounded(x: number, significant: number, pos: number): number {
    const buf = this.buf;
    let e = 0;
    if (x >= 1) while (e < 15 && x >= POW10[e + 1]) e++;
    else if (x > 0) {
      e = -1;
      while (x < NEG10[-e]) e--;
    }
    const dec = Math.max(0, significant - 1 - e);
    // y is about 10^(significant - 1) or more (>= 100, roundPositive's range); from 2^52 on (16, 17 digits) Math.round.
    const y = x * POW10[dec];
    const m = y < 4_503_599_627_370_496 ? roundPositive(y) : Math.round(y);
    // m (at most 10^17) as hi * 10^8 + lo, hi below 2^31. m / 1e8 never rounds up to an integer: m is
    // at least ulp(m) below the next multiple of 10^8, which is more than half an ulp of the quotient.
    const hi = Math.floor(m / 1e8);
    const lo = (m - hi * 1e8) | 0;
    const n = hi > 0 ? 8 + digitCount(hi) : digitCount(lo);
    if (dec === 0) return putMantissa(buf, pos, hi, lo, n);
    let end: number;
    if (n <= dec) {
      // 0.000ddd
      buf[pos++] = 48;
      buf[pos++] = 46;
      for (let z = n; z < dec; z++) buf[pos++] = 48;
      end = putMantissa(buf, pos, hi, lo, n);
    } else {
      // The digits one byte on, then the integer part back by one and the point after it.
      end = putMantissa(buf, pos + 1, hi, lo, n);
      const intEnd = pos + n - dec;
      for (let p = pos; p < intEnd; p++) buf[p] = buf[p + 1];
      buf[intEnd] = 46;
    }
    // Trailing zeros of the fraction, then the point when nothing is left after it.
    while (buf[end - 1] === 48) end--;
    if (buf[end - 1] === 46) end--;
    return end;
  }

  /**
   * ISO 8601 UTC with a Z; milliseconds only when not zero. The date part is cached per day (a
   * Date is made once a day of data); the time is written as two-digit pairs from integer math.
   */
  timestamp(value: number): void {
    const ms = Math.round(value);
    // Within the day of the previous timestamp (the common case) no division is needed.
    let within = ms - this.dayStart;
    if (!(within >= 0 && within < 86_400_000)) {
      const day = Math.floor(ms / 86_400_000);
      this.dayBytes.write(new Date(day * 86_400_000).toISOString().slice(0, 11), 'latin1');
      this.dayStart = day * 86_400_000;
      within = ms - this.dayStart;
    }
    this.room(32);
    const buf = this.buf;
    const dayBytes = this.dayBytes;
    let pos = this.pos;
    for (let i = 0; i < 11; i++) buf[pos++] = dayBytes[i];
    // Milliseconds within the day: below 2^27, so small-integer arithmetic throughout.
    let rem = within | 0;
    const h = (rem / 3_600_000) | 0;
    rem -= h * 3_600_000;
    const m = (rem / 60_000) | 0;
    rem -= m * 60_000;
    const sec = (rem / 1000) | 0;
    const milli = rem - sec * 1000;
    buf[pos++] = PAIRS[h << 1];
    buf[pos++] = PAIRS[(h << 1) + 1];
    buf[pos++] = 58;
    buf[pos++] = PAIRS[m << 1];
    buf[pos++] = PAIRS[(m << 1) + 1];
    buf[pos++] = 58;
    buf[pos++] = PAIRS[sec << 1];
    buf[pos++] = PAIRS[(sec << 1) + 1];
    if (milli > 0) {
      const hundreds = (milli / 100) | 0;
      const rest = (milli - hundreds * 100) << 1;
      buf[pos++] = 46;
      buf[pos++] = 48 + hundreds;
      buf[pos++] = PAIRS[rest];
      buf[pos++] = PAIRS[rest + 1];
    }
    buf[pos++] = 90;
    this.pos = pos;
  }

  /** Hands what was written to the Writable, waiting when it asks for a pause. */
  async flush(force = false): Promise<void> {
    if (!force && this.pending.length === 0 && this.pos < FLUSH_AT) return;
    const chunks = this.pending.splice(0);
    if (this.pos > 0) {
      // A copy of what was written: the working buffer is reused, so only output-sized memory is allocated.
      chunks.push(Buffer.from(this.buf.subarray(0, this.pos)));
      this.pos = 0;
    }
    for (const c of chunks) if (!this.out.write(c)) await once(this.out, 'drain');
  }
}
