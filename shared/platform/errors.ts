/**
 * The small set of typed errors that domain code throws. The HTTP layer maps each to one
 * RFC 9457 problem (shared/http/problem.ts); anything else is a bug and becomes a 500.
 */
export interface FieldIssue {
  /** Where: `body.range.min`, `query.limit`, `path.id`. */
  pointer: string;
  message: string;
}

export abstract class TelltaleError extends Error {
  /**
   * The error's name as Step Functions' Retry/Catch and training's user-facing list match it. A
   * literal in each class, never `constructor.name`: the minifier renames classes in the bundles.
   */
  abstract override readonly name: string;
  abstract readonly status: number;
  /** Stable problem type slug, part of the API contract. */
  abstract readonly type: string;
  abstract readonly title: string;
  readonly details?: Record<string, unknown>;

  constructor(message: string, details?: Record<string, unknown>) {
    super(message);
    this.details = details;
  }
}

export class ValidationError extends TelltaleError {
  override readonly name = 'ValidationError';
  readonly status = 400;
  readonly type = 'validation-failed';
  readonly title = 'Request validation failed';
  constructor(
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(message);
  }
}

export class UnauthorizedError extends TelltaleError {
  override readonly name = 'UnauthorizedError';
  readonly status = 401;
  readonly type = 'unauthorized';
  readonly title = 'Authentication required';
}

export class ForbiddenError extends TelltaleError {
  override readonly name = 'ForbiddenError';
  readonly status = 403;
  readonly type = 'forbidden';
  readonly title = 'Not allowed';
}

export class NotFoundError extends TelltaleError {
  override readonly name = 'NotFoundError';
  readonly status = 404;
  readonly type = 'not-found';
  readonly title = 'Not found';
}

export class ConflictError extends TelltaleError {
  override readonly name = 'ConflictError';
  readonly status = 409;
  readonly type = 'conflict';
  readonly title = 'Conflict';
}

export class PayloadTooLargeError extends TelltaleError {
  override readonly name = 'PayloadTooLargeError';
  readonly status = 413;
  readonly type = 'payload-too-large';
  readonly title = 'Payload too large';
}

export class UnsupportedMediaTypeError extends TelltaleError {
  override readonly name = 'UnsupportedMediaTypeError';
  readonly status = 415;
  readonly type = 'unsupported-media-type';
  readonly title = 'Unsupported media type';
}

/** The request is well formed but cannot be processed (a model that does not load, a dataset not READY). */
export class UnprocessableError extends TelltaleError {
  override readonly name = 'UnprocessableError';
  readonly status = 422;
  readonly type = 'unprocessable';
  readonly title = 'Unprocessable request';
}

export class TooManyRequestsError extends TelltaleError {
  override readonly name = 'TooManyRequestsError';
  readonly status = 429;
  readonly type = 'too-many-requests';
  readonly title = 'Too many requests';
}

/** A dependency (DynamoDB, S3, a queue) failed or is unavailable; safe to retry. */
export class DependencyError extends TelltaleError {
  override readonly name = 'DependencyError';
  readonly status = 503;
  readonly type = 'dependency-unavailable';
  readonly title = 'A dependency is unavailable';
}
