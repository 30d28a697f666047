/**
 * Typed input errors of the univariate ML code (streaming, change points, forecasting, drift).
 * Every one is a validation problem of the caller's data: the HTTP layer maps `MlInputError` to a 4xx
 * problem+json with `code` as its stable type, and the CLI prints `message` and exits non-zero.
 */
export type MlInputErrorCode =
  | 'non_finite_value'
  | 'series_too_short'
  | 'constant_series'
  | 'invalid_parameter'
  | 'invalid_state'
  | 'missing_feature'
  | 'shape_mismatch';

export class MlInputError extends Error {
  // A literal, not `new.target.name`: the minifier renames classes in the bundles.
  override readonly name: string = 'MlInputError';
  readonly code: MlInputErrorCode;
  /** Machine-readable detail for the problem document (index, length needed, parameter name...). */
  readonly detail: Readonly<Record<string, string | number>>;

  constructor(code: MlInputErrorCode, message: string, detail: Record<string, string | number> = {}) {
    super(message);
    this.code = code;
    this.detail = detail;
  }
}

export class NonFiniteValueError extends MlInputError {
  override readonly name = 'NonFiniteValueError';
  constructor(what: string, index: number, value: number) {
    super('non_finite_value', `${what} must be finite numbers, but element ${index} is ${String(value)}`, { index, value: String(value) });
  }
}

export class SeriesTooShortError extends MlInputError {
  override readonly name = 'SeriesTooShortError';
  constructor(what: string, length: number, needed: number, why: string) {
    super('series_too_short', `${what} has ${length} points, at least ${needed} are needed ${why}`, { length, needed });
  }
}

export class InvalidParameterError extends MlInputError {
  override readonly name = 'InvalidParameterError';
  constructor(parameter: string, problem: string) {
    super('invalid_parameter', `parameter ${parameter} ${problem}`, { parameter });
  }
}

export class InvalidStateError extends MlInputError {
  override readonly name = 'InvalidStateError';
  constructor(problem: string) {
    super('invalid_state', `stored detector state cannot be restored: ${problem}`);
  }
}

export class MissingFeatureError extends MlInputError {
  override readonly name = 'MissingFeatureError';
  constructor(feature: string) {
    super('missing_feature', `feature "${feature}" of the reference is missing from the current data`, { feature });
  }
}

export class ShapeMismatchError extends MlInputError {
  override readonly name = 'ShapeMismatchError';
  constructor(problem: string, detail: Record<string, string | number> = {}) {
    super('shape_mismatch', problem, detail);
  }
}

/** Throws NonFiniteValueError naming the first NaN or ±Infinity. */
export function assertFiniteSeries(values: ArrayLike<number>, what = 'series values'): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new NonFiniteValueError(what, i, values[i]);
  }
}

export function assertMinLength(values: ArrayLike<number>, needed: number, what: string, why: string): void {
  if (values.length < needed) throw new SeriesTooShortError(what, values.length, needed, why);
}

export function assertInRange(parameter: string, value: number, min: number, max: number, integer = false): void {
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new InvalidParameterError(parameter, `must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${String(value)}`);
  }
}
