import { writeFileSync } from 'node:fs';
import { evaluateDetections } from '../shared/ml/api/evaluate.js';
import { columnIndex, readCsv } from './csv.js';
import { CliError } from './errors.js';
import { choiceOption, numberOption, optionalString, required, type Values } from './options.js';

export const evaluateOptions = {
  predictions: { type: 'string' },
  labels: { type: 'string' },
  'label-column': { type: 'string' },
  'skip-rows': { type: 'string' },
  profile: { type: 'string' },
  output: { type: 'string' },
} as const;

function binaryColumn(path: string, cells: readonly string[], what: string): number[] {
  return cells.map((cell, r) => {
    const v = Number(cell);
    if (cell.trim() === '' || (v !== 0 && v !== 1)) throw new CliError(`${path} row ${r + 1}: ${what} "${cell}" is not 0 or 1`);
    return v;
  });
}

/**
 * telltale evaluate: `detect` output against a labelled CSV, row by row (timestamps must agree), skipping
 * the first --skip-rows rows (e.g. the training rows). Prints the metrics as JSON, or writes them to --output.
 */
export function runEvaluate(values: Values, log: (m: string) => void, print: (m: string) => void): void {
  const predictions = readCsv(required(values, 'predictions'));
  const labelled = readCsv(required(values, 'labels'));
  const labelColumn = columnIndex(labelled, required(values, 'label-column'));
  const scoreColumn = columnIndex(predictions, 'score');
  const predictedColumn = columnIndex(predictions, 'label');
  if (predictions.rows.length !== labelled.rows.length) {
    throw new CliError(`${predictions.path} has ${predictions.rows.length} rows, ${labelled.path} has ${labelled.rows.length}`);
  }
  const mismatch = predictions.rows.findIndex((row, r) => row[0].trim() !== labelled.rows[r][0].trim());
  if (mismatch >= 0) throw new CliError(`row ${mismatch + 1}: ${predictions.path} has timestamp "${predictions.rows[mismatch][0]}", ${labelled.path} has "${labelled.rows[mismatch][0]}"`);
  const skip = numberOption(values, 'skip-rows', 0, predictions.rows.length - 1, true) ?? 0;
  const rows = (csv: typeof predictions, c: number) => csv.rows.slice(skip).map((row) => row[c]);
  const scores = rows(predictions, scoreColumn).map((cell, r) => {
    const v = Number(cell);
    if (cell.trim() === '' || !Number.isFinite(v)) throw new CliError(`${predictions.path} row ${skip + r + 1}: score "${cell}" is not a number`);
    return v;
  });
  const report = evaluateDetections({
    labels: binaryColumn(labelled.path, rows(labelled, labelColumn), 'label'),
    predictions: binaryColumn(predictions.path, rows(predictions, predictedColumn), 'label'),
    scores,
    threshold: 0.5,
    profile: choiceOption(values, 'profile', ['standard', 'lowFp', 'lowFn'] as const, 'standard'),
  });
  const json = JSON.stringify(report, null, 2);
  const output = optionalString(values, 'output');
  if (output) {
    writeFileSync(output, `${json}\n`);
    log(`F1 ${report.f1?.toFixed(3) ?? 'n/a'}, FAR ${report.falseAlarmRate?.toFixed(3) ?? 'n/a'}, MAR ${report.missedAlarmRate?.toFixed(3) ?? 'n/a'} -> ${output}`);
  } else {
    print(json);
  }
}
