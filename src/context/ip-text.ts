import net from 'node:net';
import { parseIp } from '../engine/index.js';

/**
 * One spelling per visitor address: IPv4-mapped IPv6 as the IPv4 address it is, IPv6 in lower
 * case and its shortest form. A listener on `::` sees every IPv4 visitor as `::ffff:a.b.c.d`, and
 * proxies write addresses their own way; the duplicate filter remembers visitors by this text, so
 * two spellings of one address made two visitors, and explain (given the address as the operator
 * knows it) disagreed with the click. Targeting and geo already read both spellings as one address.
 */
export function canonicalIp(text: string | null): string | null {
  if (text === null || net.isIP(text) === 4) return text;
  const ip = parseIp(text);
  if (ip === null) return text;
  if (ip.family === 4) {
    const [word = 0] = ip.words;
    return [word >>> 24, (word >>> 16) & 255, (word >>> 8) & 255, word & 255].join('.');
  }
  // A zone id (link-local only, never a visitor from the internet) is kept as written.
  if (text.includes('%')) return text.toLowerCase();
  return new URL(`http://[${text}]`).hostname.slice(1, -1);
}
