import { describe, expect, it } from 'vitest';
import { scheduleTimer } from '../../../local/cloud.js';
import type { LocalFunction } from '../../../local/lambdaRuntime.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the local schedule trigger', () => {
  it('invokes its function with the tick time, skips a tick while one still runs, and stops when told', async () => {
    const ticks: string[] = [];
    let release: () => void = () => undefined;
    const fn: LocalFunction = {
      spec: { name: 'scheduled', memoryMb: 128, timeoutSeconds: 60 },
      handler: async (event: never) => {
        ticks.push((event as { time: string }).time);
        // The first run lasts until released: the ticks meanwhile are skipped.
        if (ticks.length === 1) await new Promise<void>((resolve) => (release = resolve));
      },
    };
    const problems: string[] = [];
    // Ticks below a second are raised to one second (tests scale time down).
    const stop = scheduleTimer(fn, 10, (message) => problems.push(message));
    await sleep(2600);
    expect(ticks).toHaveLength(1);
    expect(Date.parse(ticks[0])).toBeGreaterThan(Date.now() - 3000);
    release();
    await sleep(1200);
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    stop();
    const seen = ticks.length;
    await sleep(1500);
    expect(ticks).toHaveLength(seen);
    expect(problems).toEqual([]);
  });
});
