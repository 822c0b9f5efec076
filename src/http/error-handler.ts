import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorDetail } from '../domain/errors.js';
import { notFound } from './redirect/answer.js';
import { toErrorDetails } from './validation.js';

function body(error: AppError) {
  const details: ErrorDetail[] = error.details;
  return { error: { code: error.code, message: error.message, ...(details.length ? { details } : {}) } };
}

/**
 * A request Node's parser gave up on before any route saw it (REQUEST_TIMEOUT_MS passed, headers
 * over the limit, not HTTP at all), answered on the raw socket in the same shape as every other
 * error instead of Fastify's own `{"error": "Request Timeout", ...}`.
 */
export function answerClientError(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, error] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, new AppError('request_timeout', 'the request did not arrive whole within REQUEST_TIMEOUT_MS')]
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, AppError.invalid([], 'the request line and headers are too large')]
        : [400, AppError.invalid([], 'the request is not valid HTTP')];
  this.log.trace({ err }, 'client error');
  if (socket.writable) {
    const text = JSON.stringify(body(error));
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(text)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${text}`);
  }
  socket.destroy(err);
}

/** The database refused a write for want of room or a writable file: the operator must act. */
const isStorageFailure = (error: FastifyError) => typeof error.code === 'string' && /^SQLITE_(FULL|IOERR|READONLY)/.test(error.code);

/** Maps framework errors onto the closed error codes of the API. */
function toAppError(error: FastifyError): AppError | undefined {
  if (error instanceof AppError) return error;
  if (error.validation) {
    const prefix = error.validationContext === 'querystring' ? 'query' : error.validationContext === 'body' ? '' : (error.validationContext ?? '');
    return AppError.invalid(toErrorDetails(error.validation, prefix));
  }
  if (error.statusCode === 413) return new AppError('payload_too_large', 'the request body is too large');
  // The write lock held elsewhere past the main thread's short wait (MAIN_THREAD_BUSY_TIMEOUT_MS):
  // nothing was written, and the same request sent again will do.
  if (error.code === 'SQLITE_BUSY') return new AppError('unavailable', 'the database is busy; send the request again');
  // A full disk (SQLITE_FULL: SQLite rolled the transaction back, nothing was stored), or a file the
  // file system refused (SQLITE_IOERR_*, SQLITE_READONLY*): not the server's bug, the operator must act.
  if (isStorageFailure(error)) {
    return new AppError('unavailable', error.code === 'SQLITE_FULL'
      ? 'the database could not be written (the disk is full); nothing was changed'
      : `the database could not be read or written (${String(error.code)})`);
  }
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
  if (isStorageFailure(error)) request.log.error({ err: error }, 'the database could not be written');
  if (known?.code === 'unavailable') reply.header('retry-after', '1');
  if (known) return reply.code(known.status).send(body(known));
  request.log.error({ err: error }, 'request failed');
  return reply.code(500).send(body(new AppError('internal', 'internal error')));
}

/** The public click path: tracking URLs and the double meta refresh hop. */
const CLICK_PATH = /^\/sl(?:\/|-hop(?:\/|$)|$)/;

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(replyWithError);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    // Visitors reach the tracking path: whatever they send there is answered like an unknown link
    // (SPEC §4.1: no-store, no referrer), not with an API error naming the path.
    if (CLICK_PATH.test(path)) {
      const answer = notFound();
      return reply.code(answer.status).headers(answer.headers).send(answer.body);
    }
    return reply.code(404).send(body(AppError.notFound(`${request.method} ${path}`)));
  });
}
