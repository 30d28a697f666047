/**
 * Where bytes come from. Domain code takes async iterables of bytes (a Node Readable is one), so
 * S3 bodies, files and inline request bodies all enter the same way. Gzip is recognised by its
 * magic bytes and inflated as a stream.
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DataValidationError } from './errors.js';

export type ByteChunk = Uint8Array | string;
export type ByteSource = AsyncIterable<ByteChunk>;
/** A source that can be opened more than once (needed when a recipe must fit scaling first). */
export type ByteSourceFactory = () => ByteSource;
export type DataInput = ByteSource | ByteSourceFactory;

export function toBuffer(chunk: ByteChunk): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

export function openInput(input: DataInput): ByteSource {
  return typeof input === 'function' ? input() : input;
}

/** Inline text (a CSV or JSON Lines body) as a source, cut in 64 KiB chunks like a file would be. */
export function sourceFromText(text: string): ByteSource {
  const bytes = Buffer.from(text, 'utf8');
  return (async function* () {
    for (let i = 0; i < bytes.length; i += 65_536) yield bytes.subarray(i, i + 65_536);
  })();
}

/** Inline records (objects keyed by column name) as a JSON Lines source. */
export function sourceFromRecords(records: readonly Record<string, unknown>[]): ByteSource {
  return (async function* () {
    let text = '';
    for (const r of records) {
      text += `${JSON.stringify(r)}\n`;
      if (text.length > 65_536) {
        yield text;
        text = '';
      }
    }
    if (text.length > 0) yield text;
  })();
}

const isZlibError = (e: unknown): boolean => typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' && (e as { code: string }).code.startsWith('Z_');

/** Bytes as Buffers, inflated when they start with the gzip magic bytes. */
export async function* decodedBytes(source: ByteSource): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  let first: Buffer | undefined;
  try {
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      const b = toBuffer(r.value);
      if (b.length === 0) continue;
      first = b;
      break;
    }
    if (!(first[0] === 0x1f && first[1] === 0x8b)) {
      yield first;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield toBuffer(r.value);
      }
    }
    const head = first;
    const rest = (async function* () {
      yield head;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield toBuffer(r.value);
      }
    })();
    const input = Readable.from(rest, { objectMode: false });
    const gunzip = createGunzip();
    input.on('error', (e) => gunzip.destroy(e));
    input.pipe(gunzip);
    try {
      for await (const chunk of gunzip) yield chunk as Buffer;
    } catch (e) {
      if (isZlibError(e)) throw DataValidationError.of('DECOMPRESSION_FAILED', `The gzip stream is corrupt or truncated (${(e as Error).message}).`);
      throw e;
    } finally {
      input.destroy();
      gunzip.destroy();
    }
  } finally {
    await it.return?.();
  }
}
