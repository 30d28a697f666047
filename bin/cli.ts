import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { DEFAULTS_NOTE } from '../shared/ml/detectors.js';
import { InvalidInputError } from '../shared/ml/multivariate/errors.js';
import { OnnxExportUnsupportedError, OnnxModelLoadError, OnnxSignatureMismatchError } from '../shared/ml/onnx/errors.js';
import { MlInputError } from '../shared/ml/streaming/errors.js';
import { TelltaleError } from '../shared/platform/errors.js';
import type { Io } from './datasets.js';
import { CliError, usageError } from './errors.js';
import type { Values } from './options.js';

const USAGE = `Usage:
  telltale detect --input FILE.csv --output OUT.csv [--detector pca|isolation_forest|autoencoder|mset|streaming]
                  [--mode batch|streaming] [--train-rows N | --train FILE.csv] [--sensitivity 0-100]
                  [--features a,b] [--ignore anomaly,changepoint]
                  [--input-window N] [--score-window N] [--drift-horizon N] [--far RATE] [--slow-features]
                  [--calibration-folds N] [--tail exponential|gpd]
                  [--workers N]
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
The multivariate detectors read the file as a stream: fitted on the leading rows (features chosen on the first
10,000 rows or the training rows), then scored in blocks on --workers threads (default: the cores, at most 8).

Defaults of detect and train with no --detector (measured on data they were not chosen on; see BENCHMARKS.md):
  ${DEFAULTS_NOTE}.
An option given replaces its default (--sensitivity or --far the target rate); the other defaults stay.
A --detector named gets that family's plain settings (no windows, in-sample calibration) and the options given.

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

function log(message: string): void {
  process.stderr.write(`telltale: ${message}\n`);
}

const io: Io = { log, out: (text) => process.stdout.write(`${text}\n`) };

interface Command {
  options: ParseArgsOptionsConfig;
  positionals?: boolean;
  /** The exit code, when the command decides it (the remote commands). */
  run: (values: Values, positionals: readonly string[]) => void | number | Promise<void | number>;
}

/** A command that talks to a remote API: it takes positionals and decides its exit code. */
function remote(options: ParseArgsOptionsConfig, run: (values: Values, positionals: readonly string[], io: Io) => Promise<number>): Command {
  return { options, positionals: true, run: (values, positionals) => run(values, positionals, io) };
}

/**
 * Each command's module is loaded when it runs, so `telltale --help` and `detect` start without the
 * AWS SDK, the ONNX tooling or the simulator.
 */
const commands: Record<string, () => Promise<Command>> = {
  detect: () => import('./detect.js').then((m) => ({ options: m.detectOptions, run: (values) => m.runDetect(values, log) })),
  train: () => import('./train.js').then((m) => ({ options: m.trainOptions, run: (values) => m.runTrain(values, log) })),
  evaluate: () => import('./evaluate.js').then((m) => ({ options: m.evaluateOptions, run: (values) => m.runEvaluate(values, log, (text) => process.stdout.write(`${text}\n`)) })),
  simulate: () => import('./simulate.js').then((m) => ({ options: m.simulateOptions, run: (values) => m.runSimulate(values, io) })),
  'datasets push': () => import('./datasets.js').then((m) => remote(m.datasetsPushOptions, m.runDatasetsPush)),
  'datasets list': () => import('./datasets.js').then((m) => remote(m.datasetsListOptions, m.runDatasetsList)),
  'datasets get': () => import('./datasets.js').then((m) => remote(m.datasetsGetOptions, m.runDatasetsGet)),
  'dlq list': () => import('./dlq.js').then((m) => remote(m.dlqListOptions, m.runDlqList)),
  'dlq redrive': () => import('./dlq.js').then((m) => remote(m.dlqRedriveOptions, m.runDlqRedrive)),
};

/** Commands with subcommands: datasets (the API) and dlq (SQS). */
const groups: Record<string, string[]> = { datasets: ['push', 'list', 'get'], dlq: ['list', 'redrive'] };

const orList = (names: readonly string[]) => `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;

/** The command named by the arguments, and the arguments left for it. */
function commandOf(name: string, rest: readonly string[]): { key: string; args: readonly string[] } {
  const subs = groups[name];
  if (!subs) {
    if (!commands[name]) throw usageError(`unknown command "${name}"; use detect, train, evaluate, datasets, dlq or simulate`);
    return { key: name, args: rest };
  }
  const [sub, ...args] = rest;
  if (sub === undefined) throw usageError(`${name} needs a subcommand: ${orList(subs)}`);
  if (!subs.includes(sub)) throw usageError(`unknown ${name} subcommand "${sub}"; use ${orList(subs)}`);
  return { key: `${name} ${sub}`, args };
}

function parse(args: readonly string[], options: ParseArgsOptionsConfig, allowPositionals: boolean) {
  try {
    const { values, positionals } = parseArgs({ args: [...args], options, strict: true, allowPositionals });
    return { values: values as Values, positionals };
  } catch (error) {
    throw usageError((error as Error).message);
  }
}

/** Runs one command; resolves to the exit code (0 ok, 1 bad data or a refusal of the API, 2 wrong usage). */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  try {
    const { key, args } = commandOf(name, rest);
    const command = await commands[key]();
    const { values, positionals } = parse(args, command.options, command.positionals === true);
    const code = await command.run(values, positionals);
    return typeof code === 'number' ? code : 0;
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
