import type { FastifyRequest } from 'fastify';
import { clientIp } from './client-ip.js';

/** A postback's shared secret, as a query parameter: never written to a log line. */
const SECRET_PARAMETER = 'verification_token';

/** A query parameter's name as the query parser reads it (`verification%5Ftoken` is the same name). */
function parameterName(pair: string): string {
  const name = pair.split('=', 1)[0] ?? '';
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}

/** The URL with the value of every secret parameter masked, however its name is spelt or cased. */
function redactedUrl(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const pairs = url.slice(at + 1).split('&').map((pair) => (parameterName(pair).toLowerCase() === SECRET_PARAMETER ? `${pair.split('=', 1)[0]}=[redacted]` : pair));
  return `${url.slice(0, at)}?${pairs.join('&')}`;
}

/**
 * How a request appears in log lines: Fastify's fields, with secrets in the URL masked. At debug
 * every request is logged with its URL, and a postback's verification_token there would let
 * whoever reads the logs forge conversions.
 */
export function loggedRequest(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: redactedUrl(request.url),
    host: request.host,
    remoteAddress: clientIp(request),
    remotePort: request.socket?.remotePort,
  };
}
