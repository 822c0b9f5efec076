/** The closed set of error codes the API answers with, and the HTTP status each one means. */
export const ERROR_STATUS = {
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  request_timeout: 408,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorDetail {
  path: string;
  message: string;
}

/**
 * An expected failure with a message that is safe to show to the caller. Anything else thrown is a
 * bug or an infrastructure failure and is answered as `internal` without its message.
 */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  static invalid(details: ErrorDetail[], message = 'the request is not valid'): AppError {
    return new AppError('validation_failed', message, details);
  }

  static notFound(what: string): AppError {
    return new AppError('not_found', `${what} not found`);
  }
}

/** Throws one validation error listing every problem, if there are any. */
export function assertNoProblems(details: ErrorDetail[]): void {
  if (details.length > 0) throw AppError.invalid(details);
}
