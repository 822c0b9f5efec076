import net from 'node:net';

/**
 * An IP address as 32-bit words (IPv4: one word, IPv6: four), parsed once per click so CIDR
 * checks are a few integer comparisons. (node:net's BlockList re-parses its argument on every
 * check, which costs microseconds per entry.)
 */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly words: readonly number[];
}

export interface IpNetwork extends IpAddress {
  readonly prefix: number;
}

function v4Word(text: string): number {
  return text.split('.').reduce((word, octet) => ((word << 8) | Number(octet)) >>> 0, 0);
}

function v6Groups(text: string): number[] {
  let body = text;
  const tail: number[] = [];
  if (body.includes('.')) {
    // An embedded IPv4 address is the last two groups.
    const cut = body.lastIndexOf(':');
    const word = v4Word(body.slice(cut + 1));
    tail.push(word >>> 16, word & 0xffff);
    const prefix = body.slice(0, cut + 1);
    body = prefix.endsWith('::') ? prefix : prefix.slice(0, -1);
  }
  const [head = '', rest] = body.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const zeros = 8 - tail.length - left.length - right.length;
  return [...left, ...new Array<number>(Math.max(0, zeros)).fill(0), ...right, ...tail];
}

/**
 * Parses an IPv4 or IPv6 address; null if it is neither. IPv4-mapped IPv6 becomes IPv4 however it
 * is written (`::ffff:8.8.8.8`, `::ffff:808:808`, `0:0:0:0:0:ffff:808:808`): it is the same visitor.
 */
export function parseIp(text: string | null): IpAddress | null {
  if (text === null) return null;
  const address = text.split('%')[0] ?? '';
  const family = net.isIP(address);
  if (family === 4) return { family: 4, words: [v4Word(address)] };
  if (family !== 6) return null;
  const groups = v6Groups(address);
  const words = [0, 1, 2, 3].map((k) => (((groups[2 * k] ?? 0) << 16) | (groups[2 * k + 1] ?? 0)) >>> 0);
  if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) return { family: 4, words: [words[3] ?? 0] };
  return { family: 6, words };
}

/** Parses `address[/prefix]`; an IPv4-mapped IPv6 network becomes the IPv4 network it covers. */
export function parseNetwork(text: string): IpNetwork | null {
  const [address = '', prefixText, ...extra] = text.split('/');
  const ip = parseIp(address);
  if (ip === null || extra.length > 0) return null;
  const full = ip.family === 4 ? 32 : 128;
  const mapped = ip.family === 4 && net.isIP(address) === 6;
  const prefix = prefixText === undefined ? full : Number(prefixText) - (mapped ? 96 : 0);
  return Number.isInteger(prefix) && prefix >= 0 && prefix <= full ? { ...ip, prefix } : null;
}

/** The mask of a 32-bit word's top `bits` bits (none at 0 or fewer, all at 32 or more). */
export function wordMask(bits: number): number {
  if (bits <= 0) return 0;
  return bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
}

export function networkContains(network: IpNetwork, ip: IpAddress): boolean {
  if (network.family !== ip.family) return false;
  let bits = network.prefix;
  for (let k = 0; bits > 0; k++, bits -= 32) {
    if ((((network.words[k] ?? 0) ^ (ip.words[k] ?? 0)) & wordMask(bits)) !== 0) return false;
  }
  return true;
}
