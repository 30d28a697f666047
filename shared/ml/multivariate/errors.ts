/** Why an input was refused; stable so an API layer can map it to a problem `type`. */
export type InvalidInputReason =
  | 'empty'
  | 'too-few-rows'
  | 'non-finite'
  | 'feature-count'
  | 'constant-column'
  | 'bad-option';

/**
 * Bad data or options given to a multivariate detector. The message says what is wrong and where
 * (row, column), so it can go straight into a 4xx problem detail.
 */
export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
  constructor(
    readonly reason: InvalidInputReason,
    message: string,
  ) {
    super(message);
  }
}
