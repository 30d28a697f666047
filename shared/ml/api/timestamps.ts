import { ValidationError } from '../../platform/errors.js';

/** Epoch milliseconds of request timestamps (ISO strings or epoch ms), refusing any that do not strictly increase. */
export function epochMillis(timestamps: readonly (string | number)[], pointer: (index: number) => string): number[] {
  const out = new Array<number>(timestamps.length);
  for (let i = 0; i < timestamps.length; i++) {
    const t = timestamps[i];
    out[i] = typeof t === 'number' ? t : Date.parse(t);
    if (!Number.isFinite(out[i])) throw new ValidationError(`Timestamp ${i} is not a date`, [{ pointer: pointer(i), message: 'Not a date' }]);
    if (i > 0 && out[i] <= out[i - 1]) {
      throw new ValidationError(`Timestamps must strictly increase: point ${i} is not after point ${i - 1}`, [{ pointer: pointer(i), message: 'Not after the previous timestamp' }]);
    }
  }
  return out;
}

/** Responses carry ISO 8601 UTC timestamps whatever form the request used. */
export const isoOf = (ms: number): string => new Date(ms).toISOString();
