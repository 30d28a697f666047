import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../bin/cli.js';
import { scoreMatrix } from '../../../shared/ml/api/detect.js';
import { createGaussian, createRng } from '../../../shared/ml/multivariate/rng.js';
import { captureStderr } from '../../fixtures/stderr.js';

const ROWS = 40_000;
let dir: string;
const file = (name: string) => path.join(dir, name);

/** A plant file of many read blocks (256 KiB each): sensors a-c, b drifting slowly, a status text and a label column. */
function plant(rows: number, badRow?: number) {
  const g = createGaussian(createRng(5));
  const lines = ['time,a,b,c,status,anomaly'];
  const data = new Float64Array(rows * 3);
  const stamps: string[] = [];
  for (let r = 0; r < rows; r++) {
    const x = g();
    const fault = r % 4000 > 3900;
    const cells = [x.toFixed(5), (10 + r / 3000 + 0.01 * g()).toFixed(5), (0.6 * x + 0.4 * g() + (fault ? 2.5 : 0)).toFixed(5)];
    cells.forEach((c, j) => (data[r * 3 + j] = Number(c)));
    stamps.push(new Date(Date.UTC(2026, 0, 1) + r * 1000).toISOString());
    lines.push([stamps[r], r === badRow ? 'oops' : cells[0], cells[1], cells[2], r % 3 ? 'run' : 'idle', fault ? '1' : '0'].join(','));
  }
  return { text: `${lines.join('\n')}\n`, matrix: { rows, cols: 3, data }, stamps };
}

const stderr = captureStderr();
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'telltale-detect-stream-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('telltale detect on a file larger than its read blocks', () => {
  it('writes what scoring the whole file at once gives, on one thread or several, with every option', async () => {
    const { text, matrix, stamps } = plant(ROWS);
    writeFileSync(file('plant.csv'), text);
    expect(text.length).toBeGreaterThan(2 * 2 ** 20);
    const options = { inputWindow: 4, scoreWindow: 6, driftHorizon: 50, targetFalseAlarmRate: 0.01, slowFeatures: true };
    const whole = scoreMatrix(matrix, { detector: 'iforest', mode: 'streaming', featureNames: ['a', 'b', 'c'], sensitivity: 70, trainRows: 2000, options });
    expect(whole.model.slow?.features).toEqual([1]);
    const expected = `timestamp,score,label\n${stamps.map((t, r) => `${t},${whole.scores[r].toFixed(6)},${whole.labels[r]}\n`).join('')}`;
    const args = ['--input', file('plant.csv'), '--detector', 'isolation_forest', '--mode', 'streaming', '--train-rows', '2000', '--sensitivity', '70'];
    const every = [...args, '--input-window', '4', '--score-window', '6', '--drift-horizon', '50', '--far', '0.01', '--slow-features'];
    for (const workers of ['1', '3']) {
      expect(await main(['detect', ...every, '--workers', workers, '--output', file(`out-${workers}.csv`)])).toBe(0);
      expect(readFileSync(file(`out-${workers}.csv`), 'utf8')).toBe(expected);
    }
    expect(stderr.text()).toContain('ignoring column "status"');
    expect(stderr.text()).toContain(`of ${ROWS} rows labelled`);
  }, 60_000);

  it('refuses a cell that is not a number far past the leading rows, naming its row, and leaves no output', async () => {
    writeFileSync(file('bad.csv'), plant(ROWS, 25_000).text);
    expect(await main(['detect', '--input', file('bad.csv'), '--train-rows', '1000', '--output', file('bad-out.csv')])).toBe(1);
    expect(stderr.text()).toContain('row 25001, column "a": "oops" is not a number');
    expect(existsSync(file('bad-out.csv'))).toBe(false);
  }, 60_000);

  it('refuses a ragged line past the leading rows by its line number', async () => {
    const lines = plant(ROWS).text.split('\n');
    lines[30_001] += ',1';
    writeFileSync(file('ragged.csv'), lines.join('\n'));
    expect(await main(['detect', '--input', file('ragged.csv'), '--train-rows', '1000', '--output', file('ragged-out.csv'), '--workers', '2'])).toBe(1);
    expect(stderr.text()).toContain('line 30002 has 7 fields, the header has 6');
  }, 60_000);

  it('takes --workers from 1 to 256 only', async () => {
    expect(await main(['detect', '--input', file('plant.csv'), '--workers', '0', '--output', file('x.csv')])).toBe(2);
    expect(stderr.text()).toContain('--workers must be an integer from 1 to 256');
  });
});
