/** A refusal the CLI explains in one line: exit code 2 for wrong usage, 1 for bad input data. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

export const usageError = (message: string) => new CliError(message, 2);
