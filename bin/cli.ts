import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { InvalidInputError } from '../shared/ml/multivariate/errors.js';
import { OnnxExportUnsupportedError, OnnxModelLoadError, OnnxSignatureMismatchError } from '../shared/ml/onnx/errors.js';
import { MlInputError } from '../shared/ml/streaming/errors.js';
import { TelltaleError } from '../shared/platform/errors.js';
import { detectOptions, runDetect } from './detect.js';
import { CliError, usageError } from './errors.js';
import { evaluateOptions, runEvaluate } from './evaluate.js';
import type { Values } from './options.js';
import { runTrain, trainOptions } from './train.js';

const USAGE = `Usage:
  telltale detect --input FILE.csv --output OUT.csv [--detector pca|isolation_forest|autoencoder|mset|streaming]
                  [--mode batch|streaming] [--train-rows N | --train FILE.csv] [--sensitivity 0-100]
                  [--features a,b] [--ignore anomaly,changepoint]
                  [--input-window N] [--score-window N] [--drift-horizon N] [--far RATE] [--slow-features]
  telltale train --input FILE.csv --output model.onnx [--detector pca|isolation_forest|autoencoder|mset]
                 [--train-rows N] [--sensitivity 0-100] [--features a,b] [--ignore a,b] [window options as detect]
  telltale evaluate --predictions OUT.csv --labels FILE.csv --label-column anomaly [--skip-rows N]
                    [--profile standard|lowFp|lowFn] [--output metrics.json]

CSV: the first column is the timestamp, the others are features (delimiter , or ; detected); columns that are
not numeric are ignored unless named with --features. detect writes timestamp,score,label for every input row,
in input order, score in [0, 1]. In streaming mode a row's score depends only on the rows up to it.`;

const commands: Record<string, { options: ParseArgsOptionsConfig; run: (values: Values) => void }> = {
  detect: { options: detectOptions, run: (values) => runDetect(values, log) },
  train: { options: trainOptions, run: (values) => runTrain(values, log) },
  evaluate: { options: evaluateOptions, run: (values) => runEvaluate(values, log, (m) => process.stdout.write(`${m}\n`)) },
};

function log(message: string): void {
  process.stderr.write(`telltale: ${message}\n`);
}

/** Runs one command; returns the exit code (0 ok, 1 bad data, 2 wrong usage). */
export function main(argv: readonly string[]): number {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  try {
    const command = commands[name];
    if (!command) throw usageError(`unknown command "${name}"; use detect, train or evaluate`);
    let values: Values;
    try {
      values = parseArgs({ args: [...rest], options: command.options, strict: true, allowPositionals: false }).values as Values;
    } catch (error) {
      throw usageError((error as Error).message);
    }
    command.run(values);
    return 0;
  } catch (error) {
    if (error instanceof CliError) {
      log(error.message);
      if (error.exitCode === 2) process.stderr.write(`Run "telltale --help" for usage.\n`);
      return error.exitCode;
    }
    // The domain's refusals of the data (non-finite values, constant columns, too few rows...) are the user's to fix.
    if (error instanceof MlInputError || error instanceof InvalidInputError || error instanceof OnnxModelLoadError || error instanceof OnnxSignatureMismatchError || error instanceof OnnxExportUnsupportedError || error instanceof TelltaleError) {
      log(error.message);
      return 1;
    }
    throw error;
  }
}

