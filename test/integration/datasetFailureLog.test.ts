/**
 * What a failed dataset run leaves in the log, on a local cloud of its own: its handlers log at
 * INFO (the other tests run them silenced).
 */
import { describe, expect, it, vi } from 'vitest';
import { useLocalCloud } from './localCloudFixture.js';

const problems: string[] = [];
const local = useLocalCloud({ logLevel: 'INFO', onProblem: (message) => problems.push(message) });

describe('a failed dataset run', () => {
  it('is logged once, with the cause the dataset shows and the error behind it, and no stack trace', async () => {
    const lines: string[] = [];
    const capture = (chunk: string | Uint8Array) => (lines.push(String(chunk)), true);
    const writes = [vi.spyOn(process.stdout, 'write').mockImplementation(capture), vi.spyOn(process.stderr, 'write').mockImplementation(capture)];
    let dataset: Record<string, unknown>;
    try {
      const call = await local.client('plant-m');
      await call('/datasets', { method: 'POST', body: JSON.stringify({ id: 'logged', name: 'logged', content: 'hello\nworld\n' }) });
      dataset = await local.settled(call, '/datasets/logged');
    } finally {
      writes.forEach((write) => write.mockRestore());
    }
    const failure = dataset.failure as { step: string; cause: string };
    expect(failure.step).toBe('Validate');
    const logged = lines.filter((line) => line.includes('dataset pipeline run failed'));
    expect(logged).toHaveLength(1);
    expect(JSON.parse(logged[0])).toMatchObject({ level: 'ERROR', datasetId: 'logged', step: 'Validate', cause: failure.cause, error: 'DataValidationError', errorType: 'DataValidationError' });
    expect(lines.join('')).not.toMatch(/\n\s+at .*:\d+:\d+\)?\n/);
    // The local cloud adds nothing to what the failure function logged.
    expect(problems).toEqual([]);
  });
});
