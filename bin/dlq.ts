import type { ParseArgsOptionsConfig } from 'node:util';
import { deadLetterQueues, listVisibilitySeconds } from '../shared/aws/deadLetters.js';
import type { Io } from './datasets.js';
import { TelltaleError } from '../shared/platform/errors.js';
import { CliError, usageError } from './errors.js';
import { numberOption, optionalString, type Values } from './options.js';

const common: ParseArgsOptionsConfig = { endpoint: { type: 'string' }, region: { type: 'string' } };
export const dlqListOptions: ParseArgsOptionsConfig = { ...common, max: { type: 'string' } };
export const dlqRedriveOptions: ParseArgsOptionsConfig = common;

function client(values: Values) {
  const endpoint = optionalString(values, 'endpoint') ?? process.env.AWS_ENDPOINT_URL_SQS ?? process.env.AWS_ENDPOINT_URL;
  const local = endpoint !== undefined && /^https?:\/\/(localhost|127\.0\.0\.1)(:|\/|$)/.test(endpoint) && !process.env.AWS_ACCESS_KEY_ID;
  return deadLetterQueues({ endpoint, region: optionalString(values, 'region'), localCredentials: local });
}

/** SQS's refusals (no such queue, access denied) are the user's to fix: one line, exit 1. */
async function explained<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof TelltaleError || !(error instanceof Error)) throw error;
    throw new CliError(`${error.name}: ${error.message}`);
  }
}

function queueOf(positionals: readonly string[]): string {
  if (positionals.length !== 1) throw usageError('name one queue: its URL, or its name (e.g. ingest on the local cloud)');
  return positionals[0];
}

/** telltale dlq list QUEUE: the messages of the queue's dead-letter queue, one JSON line each. */
export async function runDlqList(values: Values, positionals: readonly string[], io: Io): Promise<number> {
  const queue = queueOf(positionals);
  const max = numberOption(values, 'max', 1, 10_000, true) ?? 100;
  const { deadLetterUrl, messages } = await explained(() => client(values).list(queue, max));
  for (const m of messages) io.out(JSON.stringify(m));
  io.log(`${messages.length} message(s) in ${deadLetterUrl}${messages.length > 0 ? ` (hidden there for ${listVisibilitySeconds} s)` : ''}`);
  return 0;
}

/** telltale dlq redrive QUEUE: moves the dead letters back to the queue (SQS StartMessageMoveTask). */
export async function runDlqRedrive(values: Values, positionals: readonly string[], io: Io): Promise<number> {
  const queue = queueOf(positionals);
  const { deadLetterArn, queueArn, taskHandle } = await explained(() => client(values).redrive(queue));
  io.log(`moving the messages of ${deadLetterArn} back to ${queueArn}`);
  io.out(JSON.stringify({ taskHandle }));
  return 0;
}
