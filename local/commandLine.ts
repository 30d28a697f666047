import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

type Values<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ options: O; strict: true }>>['values'];

/**
 * The flags of a local script (`npm start`, `npm run token`) with node's parseArgs: `--help` prints
 * `usage` and exits 0; an unknown flag, a missing value or a stray argument prints the problem and
 * the usage and exits 2, never a stack trace.
 */
export function parseCommandLine<O extends ParseArgsOptionsConfig>(options: O, usage: string, args: string[] = process.argv.slice(2)): Values<O> {
  let values: Values<O> & { help?: boolean };
  try {
    ({ values } = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }) as { values: Values<O> & { help?: boolean } });
  } catch (error) {
    return usageError((error as Error).message, usage);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  return values;
}

/** Prints a usage error and exits 2, the convention for bad command lines. */
export function usageError(message: string, usage: string): never {
  console.error(`${message}\n\n${usage}`);
  process.exit(2);
}
