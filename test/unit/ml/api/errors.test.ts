import { describe, expect, it } from 'vitest';
import { toHttpError, withHttpErrors } from '../../../../shared/ml/api/errors.js';
import { toProblem } from '../../../../shared/http/problem.js';
import { InvalidInputError } from '../../../../shared/ml/multivariate/errors.js';
import { OnnxModelLoadError } from '../../../../shared/ml/onnx/errors.js';
import { InvalidParameterError, NonFiniteValueError, SeriesTooShortError } from '../../../../shared/ml/streaming/errors.js';

const problemOf = (error: Error) => toProblem(toHttpError(error), '/api/v1/ml/detect', 'c-1');

describe('toHttpError', () => {
  it('turns refusals of the data into 400s and data that cannot support a model into 422s, keeping message and code', () => {
    expect(problemOf(new NonFiniteValueError('series values', 3, Number.NaN))).toMatchObject({ status: 400, code: 'non_finite_value', index: 3, detail: expect.stringContaining('element 3 is NaN') });
    expect(problemOf(new InvalidParameterError('period', 'must be at most 20'))).toMatchObject({ status: 400, code: 'invalid_parameter', parameter: 'period' });
    expect(problemOf(new InvalidInputError('feature-count', 'rows have 3 features, the model expects 4'))).toMatchObject({ status: 400, code: 'feature-count' });
    expect(problemOf(new SeriesTooShortError('series', 5, 16, 'to learn'))).toMatchObject({ status: 422, code: 'series_too_short', needed: 16 });
    expect(problemOf(new InvalidInputError('constant-column', 'b is constant'))).toMatchObject({ status: 422, code: 'constant-column', detail: 'b is constant' });
    expect(problemOf(new OnnxModelLoadError('onnxruntime cannot load the model: bad magic'))).toMatchObject({ status: 422, code: 'model_unusable' });
  });

  it('leaves other errors alone, so bugs stay 500s', () => {
    const bug = new TypeError('x is undefined');

    expect(toHttpError(bug)).toBe(bug);
    expect(() => withHttpErrors(() => { throw bug; })).toThrow(bug);
    expect(withHttpErrors(() => 42)).toBe(42);
  });
});
