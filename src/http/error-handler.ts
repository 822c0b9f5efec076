import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorDetail } from '../domain/errors.js';
import { toErrorDetails } from './validation.js';

function body(error: AppError) {
  const details: ErrorDetail[] = error.details;
  return { error: { code: error.code, message: error.message, ...(details.length ? { details } : {}) } };
}

/** Maps framework errors onto the closed error codes of the API. */
function toAppError(error: FastifyError): AppError | undefined {
  if (error instanceof AppError) return error;
  if (error.validation) {
    const prefix = error.validationContext === 'querystring' ? 'query' : error.validationContext === 'body' ? '' : (error.validationContext ?? '');
    return AppError.invalid(toErrorDetails(error.validation, prefix));
  }
  if (error.statusCode === 413) return new AppError('payload_too_large', 'the request body is too large');
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return AppError.invalid([], 'send the body as JSON with "Content-Type: application/json"');
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    const message = error instanceof SyntaxError ? `the body is not valid JSON: ${error.message}` : error.message;
    return AppError.invalid([], message);
  }
  return undefined;
}

/** Answers an error in the shape of SPEC §3: a known one with its code, anything else as `internal`. */
function replyWithError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const known = toAppError(error);
  if (known) return reply.code(known.status).send(body(known));
  request.log.error({ err: error }, 'request failed');
  return reply.code(500).send(body(new AppError('internal', 'internal error')));
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(replyWithError);
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(body(AppError.notFound(`${request.method} ${request.url.split('?')[0]}`))),
  );
}
