import net from 'node:net';
import type { FastifyRequest } from 'fastify';

const V4_WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/;
const V6_IN_BRACKETS = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/i;

/**
 * The visitor's address. Behind a trusted proxy it is what X-Forwarded-For says, verbatim, and some
 * proxies (Azure Application Gateway among them) append the client's port: `8.8.8.8:51234` would be
 * stored as the address, found in no geo database and no CIDR rule, and differ on every connection.
 * The port is dropped; anything still not an address gives way to the connection's own peer.
 */
export function clientIp(request: FastifyRequest): string | null {
  const claimed = request.ip;
  if (net.isIP(claimed) !== 0) return claimed;
  const bare = V4_WITH_PORT.exec(claimed)?.[1] ?? V6_IN_BRACKETS.exec(claimed)?.[1];
  if (bare !== undefined && net.isIP(bare) !== 0) return bare;
  const peer = request.socket.remoteAddress;
  return peer !== undefined && net.isIP(peer) !== 0 ? peer : null;
}
