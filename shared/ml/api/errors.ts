import { UnprocessableError, ValidationError, type FieldIssue } from '../../platform/errors.js';
import { InvalidInputError, type InvalidInputReason } from '../multivariate/errors.js';
import { OnnxExportUnsupportedError, OnnxModelLoadError, OnnxSignatureMismatchError } from '../onnx/errors.js';
import { MlInputError, type MlInputErrorCode } from '../streaming/errors.js';

/** A 400 that also carries the domain's stable `code` as a problem extension member. */
class MlValidationError extends ValidationError {
  override readonly details: Record<string, unknown>;
  constructor(message: string, issues: FieldIssue[], details: Record<string, unknown>) {
    super(message, issues);
    this.details = details;
  }
}

/**
 * Data that is well formed but cannot support the model (too short, constant, a single row) is a 422;
 * everything else the ML code refuses (non-finite values, wrong shapes, bad parameters) is a 400.
 */
const unprocessableCodes = new Set<MlInputErrorCode | InvalidInputReason>(['series_too_short', 'constant_series', 'too-few-rows', 'constant-column']);

/**
 * The one place where the ML domain's errors become HTTP problems: MlInputError (univariate code),
 * InvalidInputError (multivariate, metrics) and the ONNX errors. Anything else is returned as is.
 */
export function toHttpError(error: unknown): unknown {
  let code: string;
  let detail: Readonly<Record<string, string | number>> = {};
  if (error instanceof MlInputError) {
    code = error.code;
    detail = error.detail;
  } else if (error instanceof InvalidInputError) {
    code = error.reason;
  } else if (error instanceof OnnxModelLoadError || error instanceof OnnxSignatureMismatchError || error instanceof OnnxExportUnsupportedError) {
    return new UnprocessableError(error.message, { code: 'model_unusable' });
  } else {
    return error;
  }
  const details = { code, ...detail };
  if (unprocessableCodes.has(code as MlInputErrorCode)) return new UnprocessableError(error.message, details);
  return new MlValidationError(error.message, [{ pointer: 'body', message: error.message }], details);
}

/** Runs ML domain code and rethrows its errors as HTTP problems. */
export function withHttpErrors<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw toHttpError(error);
  }
}
