import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Whether the request is still standing once Node's parser has read the bytes that came with its
 * headers. A route runs as soon as the headers are parsed; an invalid Transfer-Encoding, a chunked
 * body that is not chunked, or bytes after the request that are not HTTP fail the parser only
 * afterwards, in the same read, and the client gets answerClientError's 400 (the socket destroyed)
 * instead of the route's answer. A route that stores something (a click, a conversion, an API write)
 * waits one microtask for that read to end and stores nothing if the request was refused: SPEC §1.5.
 */
export async function parsedWhole(request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
  await Promise.resolve();
  if (request.raw.socket?.destroyed !== true) return true;
  // The connection is gone and the client has its 400: nothing more can be answered.
  reply.hijack();
  return false;
}
