import { gzipSync } from 'node:zlib';
import type { ByteSource } from '../../../shared/data/byte-source.js';

/** A source yielding the text in chunks of `size` bytes (1 splits every multi-byte character and CRLF). */
export function chunked(text: string | Buffer, size = 7): ByteSource {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  return (async function* () {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  })();
}

export const gzipped = (text: string): ByteSource => chunked(gzipSync(Buffer.from(text)), 64);

/** A CSV of n rows at 1 s from 2024-01-01T00:00:00Z with columns from a value function. */
export function csv(n: number, columns: string[], value: (i: number, c: number) => number | string, opts: { delimiter?: string; start?: number; step?: number } = {}): string {
  const d = opts.delimiter ?? ',';
  const start = opts.start ?? Date.UTC(2024, 0, 1);
  const step = opts.step ?? 1000;
  const lines = [['timestamp', ...columns].join(d)];
  for (let i = 0; i < n; i++) lines.push([new Date(start + i * step).toISOString(), ...columns.map((_, c) => String(value(i, c)))].join(d));
  return `${lines.join('\n')}\n`;
}
