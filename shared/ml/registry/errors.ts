import { TelltaleError, UnprocessableError, ValidationError } from '../../platform/errors.js';
import { InvalidInputError } from '../multivariate/errors.js';
import { OnnxExportUnsupportedError, OnnxModelLoadError, OnnxSignatureMismatchError } from '../onnx/errors.js';

/**
 * The ML library's errors as the platform's typed errors: bad rows are the caller's 400, a model
 * that cannot load or run is a 422, so neither ever surfaces as a 500. Other errors pass through.
 */
export function asTelltaleError(error: unknown, pointer = 'body.rows'): unknown {
  if (error instanceof TelltaleError) return error;
  if (error instanceof InvalidInputError) {
    if (error.reason === 'bad-option' || error.reason === 'constant-column' || error.reason === 'too-few-rows') return new UnprocessableError(error.message);
    return new ValidationError(error.message, [{ pointer, message: error.message }]);
  }
  if (error instanceof OnnxModelLoadError || error instanceof OnnxSignatureMismatchError) return new UnprocessableError(`The model cannot be used: ${error.message}`);
  if (error instanceof OnnxExportUnsupportedError) return new UnprocessableError(`${error.message}; choose another detector or options.`);
  return error;
}

/** Runs `work`, rethrowing the ML library's errors as typed errors. */
export async function translated<T>(work: () => Promise<T> | T, pointer?: string): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw asTelltaleError(error, pointer);
  }
}
