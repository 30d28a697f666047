import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { InvalidInputError } from '../shared/ml/multivariate/errors.js';
import { OnnxExportUnsupportedError, OnnxModelLoadError, OnnxSignatureMismatchError } from '../shared/ml/onnx/errors.js';
import { MlInputError } from '../shared/ml/streaming/errors.js';
import { TelltaleError } from '../shared/platform/errors.js';
import { detectOptions, runDetect } from './detect.js';
import { datasetsGetOptions, datasetsListOptions, datasetsPushOptions, runDatasetsGet, runDatasetsList, runDatasetsPush, type Io } from './datasets.js';
import { dlqListOptions, dlqRedriveOptions, runDlqList, runDlqRedrive } from './dlq.js';
import { CliError, usageError } from './errors.js';
import { evaluateOptions, runEvaluate } from './evaluate.js';
import type { Values } from './options.js';
import { runSimulate, simulateOptions } from './simulate.js';
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
  telltale datasets push FILE [--id ID] [--name NAME] [--description TEXT] [--schema schema.json]
                        [--wait [--timeout SECONDS] [--interval SECONDS]] [--api URL] [--token TOKEN]
  telltale datasets list [--limit N] [--cursor C] [--api URL] [--token TOKEN]
  telltale datasets get ID [--api URL] [--token TOKEN]
  telltale dlq list QUEUE [--max N] [--endpoint URL] [--region R]
  telltale dlq redrive QUEUE [--endpoint URL] [--region R]
  telltale simulate [--speed N] [--duration SECONDS] [--seed N] [--pumps N] [--compressors N]
                    [--first-fault SECONDS] [--backfill SECONDS] [--report plan.json] [--api URL] [--token TOKEN]

CSV: the first column is the timestamp, the others are features (delimiter , or ; detected); columns that are
not numeric are ignored unless named with --features. detect writes timestamp,score,label for every input row,
in input order, score in [0, 1]. In streaming mode a row's score depends only on the rows up to it.

datasets: FILE is .csv, .csv.gz, .jsonl or .ndjson; push registers it, streams it to its upload URL and with
--wait follows the pipeline to READY or FAILED (exit 1). --api defaults to TELLTALE_API_URL, else
http://localhost:4000; --token to TELLTALE_TOKEN. The API's refusals print as "telltale: error: <detail>" (exit 1).

dlq: QUEUE is a queue URL or name; its dead-letter queue comes from its RedrivePolicy. list prints each message as
a JSON line (up to --max, default 100; each stays hidden there for 30 s); redrive moves them all back to QUEUE
(SQS StartMessageMoveTask). The SQS API of AWS by default (credentials and region as the AWS CLI finds them), or
--endpoint (default AWS_ENDPOINT_URL_SQS): the local cloud's "Queues, bus" URL, where QUEUE is e.g. ingest.

simulate: a seeded plant of pumps and compressors (one reading a second per sensor) sends readings to POST /readings,
registering its sensors first; faults (bearing wear, cavitation, a stuck sensor, a valve closing, a leak) begin after
the detectors' warm-up, and one JSON line is printed as each begins and ends. --speed N > 1 replays the last
--duration seconds (default an hour) N times faster than real time, ending now; in real time, --backfill N starts N
seconds in the past and sends them at once first. --api and --token as for datasets; the token needs telltale/ingest.`;

const commands: Record<string, { options: ParseArgsOptionsConfig; run: (values: Values) => void | Promise<void> }> = {
  detect: { options: detectOptions, run: (values) => runDetect(values, log) },
  train: { options: trainOptions, run: (values) => runTrain(values, log) },
  evaluate: { options: evaluateOptions, run: (values) => runEvaluate(values, log, (m) => process.stdout.write(`${m}\n`)) },
};

function log(message: string): void {
  process.stderr.write(`telltale: ${message}\n`);
}

const datasetCommands: Record<string, { options: ParseArgsOptionsConfig; run: (values: Values, positionals: readonly string[], io: Io) => Promise<number> }> = {
  push: { options: datasetsPushOptions, run: runDatasetsPush },
  list: { options: datasetsListOptions, run: runDatasetsList },
  get: { options: datasetsGetOptions, run: runDatasetsGet },
};

const io: Io = { log, out: (text) => process.stdout.write(`${text}\n`) };

const dlqCommands: Record<string, { options: ParseArgsOptionsConfig; run: (values: Values, positionals: readonly string[], io: Io) => Promise<number> }> = {
  list: { options: dlqListOptions, run: runDlqList },
  redrive: { options: dlqRedriveOptions, run: runDlqRedrive },
};

/** telltale dlq list|redrive: dead-letter queues, through the SQS API. */
async function dlq(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    const command = sub === undefined ? undefined : dlqCommands[sub];
    if (!command) throw usageError(sub === undefined ? 'dlq needs a subcommand: list or redrive' : `unknown dlq subcommand "${sub}"; use list or redrive`);
    const { values, positionals } = parse(rest, command.options, true);
    return await command.run(values, positionals, io);
  } catch (error) {
    return exitCodeOf(error);
  }
}

function parse(args: readonly string[], options: ParseArgsOptionsConfig, allowPositionals: boolean) {
  try {
    const { values, positionals } = parseArgs({ args: [...args], options, strict: true, allowPositionals });
    return { values: values as Values, positionals };
  } catch (error) {
    throw usageError((error as Error).message);
  }
}

/** telltale datasets SUBCOMMAND: the remote commands, which talk to the API. */
async function datasets(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    const command = sub === undefined ? undefined : datasetCommands[sub];
    if (!command) throw usageError(sub === undefined ? 'datasets needs a subcommand: push, list or get' : `unknown datasets subcommand "${sub}"; use push, list or get`);
    const { values, positionals } = parse(rest, command.options, true);
    return await command.run(values, positionals, io);
  } catch (error) {
    return exitCodeOf(error);
  }
}

/** telltale simulate: runs until its duration ends or Ctrl-C. */
async function simulateCommand(argv: readonly string[]): Promise<number> {
  try {
    return await runSimulate(parse(argv, simulateOptions, false).values, io);
  } catch (error) {
    return exitCodeOf(error);
  }
}

/** Runs one command; returns the exit code (0 ok, 1 bad data or a refusal of the API, 2 wrong usage); a promise for the remote commands. */
export function main(argv: readonly string[]): number | Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === 'datasets') return datasets(rest);
  if (name === 'dlq') return dlq(rest);
  if (name === 'simulate') return simulateCommand(rest);
  try {
    const command = commands[name];
    if (!command) throw usageError(`unknown command "${name}"; use detect, train, evaluate, datasets, dlq or simulate`);
    const done = command.run(parse(rest, command.options, false).values);
    return done ? done.then(() => 0, exitCodeOf) : 0;
  } catch (error) {
    return exitCodeOf(error);
  }
}

function exitCodeOf(error: unknown): number {
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
