import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../bin/cli.js';
import { captureStderr } from '../../fixtures/stderr.js';

const SKAB = path.resolve(import.meta.dirname, '../../fixtures/skab/valve1/1.csv');
const FEATURES = ['Accelerometer1RMS', 'Accelerometer2RMS', 'Current', 'Pressure', 'Temperature', 'Thermocouple', 'Voltage', 'Volume Flow RateRMS'];

describe('telltale train and detect never take label columns as features', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cli-labels-'));
  const stderr = captureStderr();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('train on SKAB without --ignore: anomaly and changepoint are left out, and so are the rows labelled anomalous', async () => {
    const output = path.join(dir, 'skab.onnx');
    expect(await main(['train', '--input', SKAB, '--detector', 'pca', '--output', output])).toBe(0);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'skab.manifest.json'), 'utf8')) as { features: string[]; training: { rows: number } };
    expect(manifest.features).toEqual(FEATURES);
    expect(stderr.text()).toContain('leaving out label column(s) anomaly, changepoint');
    const rows = readFileSync(SKAB, 'utf8').trim().split('\n').slice(1);
    const anomalous = rows.filter((line) => Number(line.split(';')[9]) === 1).length;
    expect(anomalous).toBeGreaterThan(0);
    expect(manifest.training.rows).toBe(rows.length - anomalous);
    expect(stderr.text()).toContain(`left out ${anomalous} of the ${rows.length} training rows, labelled anomalous in column "anomaly"`);
  });

  it('detect on SKAB without --ignore uses the sensors only; naming a label in --features is a usage error', async () => {
    expect(await main(['detect', '--input', SKAB, '--train-rows', '400', '--output', path.join(dir, 'out.csv')])).toBe(0);
    expect(stderr.text()).toContain(`on ${FEATURES.length} feature(s) [${FEATURES.join(', ')}]`);
    expect(await main(['detect', '--input', SKAB, '--features', 'Current,anomaly', '--output', path.join(dir, 'x.csv')])).toBe(2);
    expect(stderr.text()).toContain('anomaly: label columns are never features');
  });

  it('a label-named column that is not 0/1 is still no feature, and labels no rows', async () => {
    const file = path.join(dir, 'target.csv');
    writeFileSync(file, ['time,a,b,target', ...Array.from({ length: 40 }, (_, i) => `${i},${Math.sin(i)},${Math.cos(i * 1.3)},${i % 3}`)].join('\n'));
    expect(await main(['train', '--input', file, '--output', path.join(dir, 'target.onnx')])).toBe(0);
    expect(JSON.parse(readFileSync(path.join(dir, 'target.manifest.json'), 'utf8'))).toMatchObject({ features: ['a', 'b'], training: { rows: 40 } });
  });
});
