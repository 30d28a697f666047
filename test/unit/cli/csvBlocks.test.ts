import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { csvBlocks, ReadBuffers } from '../../../bin/csv.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'telltale-csv-blocks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Lines of every length from a few bytes to well over a read block's 256 KiB, the last one unfinished. */
function text(): string {
  const lines: string[] = [];
  for (let r = 0; r < 3000; r++) lines.push(`${r},${'x'.repeat((r * 7919) % (r % 50 === 0 ? 20_000 : 300))}`);
  lines.push(`long,${'y'.repeat(300_000)}`, 'short', 'no newline at the end');
  return lines.join('\n');
}

describe('reading a file in blocks of whole lines', () => {
  it('gives every byte once, in order, each block whole lines at its byte offset, in a buffer of its own', async () => {
    const content = Buffer.from(text());
    const file = path.join(dir, 'lines.csv');
    writeFileSync(file, content);
    for (const from of [0, 6]) {
      const parts: Buffer[] = [];
      const memories = new Set<ArrayBufferLike>();
      let expectedOffset = from;
      for await (const block of csvBlocks(file, from)) {
        expect(block.offset).toBe(expectedOffset);
        expect(block.bytes.equals(content.subarray(block.offset, block.offset + block.bytes.length))).toBe(true);
        const ends = block.offset + block.bytes.length;
        if (ends < content.length) expect(block.bytes[block.bytes.length - 1]).toBe(0x0a);
        memories.add(block.bytes.buffer);
        parts.push(Buffer.from(block.bytes));
        expectedOffset = ends;
      }
      expect(Buffer.concat(parts).equals(content.subarray(from))).toBe(true);
      // Moving a block to a worker moves its whole memory: no other block, nor Node's pool of small buffers, may share it.
      expect(memories.size).toBe(parts.length);
      expect(memories.has(Buffer.from('z').buffer)).toBe(false);
    }
  });

  it('reads into the memory of blocks given back, and the blocks are still the bytes of the file', async () => {
    // Lines shorter than the room kept in front of each read: no block needs memory of its own.
    const content = Buffer.from(Array.from({ length: 30_000 }, (_, r) => `${r},${'x'.repeat(r % 200)}\n`).join(''));
    const file = path.join(dir, 'reused.csv');
    writeFileSync(file, content);
    const buffers = new ReadBuffers();
    const parts: Buffer[] = [];
    const memories = new Set<ArrayBufferLike>();
    for await (const block of csvBlocks(file, 0, buffers)) {
      parts.push(Buffer.from(block.bytes));
      memories.add(block.bytes.buffer);
      buffers.give(block.bytes);
    }
    expect(Buffer.concat(parts).equals(content)).toBe(true);
    // One block handled, one read ahead: two memories serve every read.
    expect(parts.length).toBeGreaterThan(10);
    expect(memories.size).toBe(2);
  });
});
