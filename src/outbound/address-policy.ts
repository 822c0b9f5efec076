import { inV4, inV6, ipv4ToNumber, ipv6ToBigInt, numberToIpv4 } from './ip-bits.js';

/** What an address is, as far as "may a postback connect to it?" is concerned. */
export type AddressKind =
  | 'public' | 'loopback' | 'private' | 'unique-local' | 'link-local' | 'metadata' | 'cgnat' | 'multicast'
  | 'unspecified' | 'broadcast' | 'reserved' | 'documentation' | 'benchmarking' | 'invalid';

/** How an IPv6 address carries an IPv4 one, when it does. */
export type Embedding = 'ipv4-mapped' | 'ipv4-translated' | 'ipv4-compatible' | 'nat64' | '6to4';

export interface AddressClass {
  kind: AddressKind;
  /** Set when the verdict comes from an IPv4 address embedded in an IPv6 one. */
  via?: Embedding;
  /** The embedded IPv4 address, when `via` is set. */
  embedded?: string;
}

type V4Range = readonly [base: string, prefix: number, kind: AddressKind];

// First match wins, so single hosts come before the blocks that contain them.
const V4_RANGES: readonly V4Range[] = [
  ['0.0.0.0', 32, 'unspecified'],
  ['0.0.0.0', 8, 'reserved'], // "this network"
  ['10.0.0.0', 8, 'private'],
  ['100.100.100.200', 32, 'metadata'], // Alibaba Cloud
  ['100.64.0.0', 10, 'cgnat'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.169.254', 32, 'metadata'], // AWS, GCP, Azure, OpenStack, ...
  ['169.254.0.0', 16, 'link-local'],
  ['168.63.129.16', 32, 'metadata'], // Azure wire server (a public-looking address)
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'], // IETF protocol assignments (incl. 192.0.0.192, Oracle metadata)
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, 'reserved'], // deprecated 6to4 relay anycast
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['255.255.255.255', 32, 'broadcast'],
  ['240.0.0.0', 4, 'reserved'],
];

const V4_TABLE = V4_RANGES.map(([base, prefix, kind]) => ({ base: ipv4ToNumber(base) as number, prefix, kind }));

type V6Range = readonly [base: string, prefix: number, kind: AddressKind];

// Checked after the IPv4-embedding prefixes. Anything outside 2000::/3 (global unicast) that is not
// listed is 'reserved' anyway; the list names the common cases and the holes inside 2000::/3.
const V6_RANGES: readonly V6Range[] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['64:ff9b:1::', 48, 'reserved'], // local-use NAT64: translates to whatever the local network says
  ['100::', 64, 'reserved'], // discard-only
  ['2001::', 23, 'reserved'], // IETF protocol assignments: Teredo, ORCHID, benchmarking, ...
  ['2001:db8::', 32, 'documentation'],
  ['3fff::', 20, 'documentation'],
  ['5f00::', 16, 'reserved'], // SRv6 SIDs
  ['fd00:ec2::254', 128, 'metadata'], // AWS IMDS over IPv6
  ['fc00::', 7, 'unique-local'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'reserved'], // deprecated site-local
  ['ff00::', 8, 'multicast'],
];

const V6_TABLE = V6_RANGES.map(([base, prefix, kind]) => ({ base: ipv6ToBigInt(base) as bigint, prefix, kind }));

const v6 = (text: string) => ipv6ToBigInt(text) as bigint;
// Each embedding: the prefix that marks it and where the IPv4 address sits (bits from the right).
const EMBEDDINGS: readonly { base: bigint; prefix: number; via: Embedding; shift: bigint }[] = [
  { base: v6('::ffff:0:0'), prefix: 96, via: 'ipv4-mapped', shift: 0n },
  { base: v6('::ffff:0:0:0'), prefix: 96, via: 'ipv4-translated', shift: 0n },
  { base: v6('64:ff9b::'), prefix: 96, via: 'nat64', shift: 0n },
  { base: v6('2002::'), prefix: 16, via: '6to4', shift: 80n },
];
const GLOBAL_UNICAST = v6('2000::');

function classifyV4(value: number): AddressKind {
  return V4_TABLE.find((range) => inV4(value, range.base, range.prefix))?.kind ?? 'public';
}

function classifyV6(value: bigint): AddressClass {
  for (const embedding of EMBEDDINGS) {
    if (!inV6(value, embedding.base, embedding.prefix)) continue;
    const v4 = Number((value >> embedding.shift) & 0xffffffffn);
    return { kind: classifyV4(v4), via: embedding.via, embedded: numberToIpv4(v4) };
  }
  const listed = V6_TABLE.find((range) => inV6(value, range.base, range.prefix));
  if (listed) return { kind: listed.kind };
  // IPv4-compatible (::a.b.c.d) is deprecated and routes nowhere sane: refused whatever it embeds,
  // named after the embedded address when that one is itself special.
  if (value >> 32n === 0n) {
    const v4 = Number(value);
    const kind = classifyV4(v4);
    return { kind: kind === 'public' ? 'reserved' : kind, via: 'ipv4-compatible', embedded: numberToIpv4(v4) };
  }
  return { kind: inV6(value, GLOBAL_UNICAST, 3) ? 'public' : 'reserved' };
}

/** Classifies an IPv4 or IPv6 address given as text (an IPv6 zone suffix is ignored). */
export function classifyAddress(address: string): AddressClass {
  const v4 = ipv4ToNumber(address);
  if (v4 !== undefined) return { kind: classifyV4(v4) };
  const value = ipv6ToBigInt(address);
  return value === undefined ? { kind: 'invalid' } : classifyV6(value);
}

/**
 * Decides whether a connection to `address` is allowed. Only public addresses are, unless
 * `allowLoopback` (a test-only switch) is set: it then also admits plain loopback — 127.0.0.0/8,
 * ::1 and IPv4-mapped 127.x — and nothing else (not loopback reached through NAT64 or 6to4).
 * Returns undefined when allowed, else the reason, safe to log and store.
 */
export function refusalReason(address: string, allowLoopback: boolean): string | undefined {
  const verdict = classifyAddress(address);
  if (verdict.kind === 'public') return undefined;
  const direct = verdict.via === undefined || verdict.via === 'ipv4-mapped';
  if (allowLoopback && verdict.kind === 'loopback' && direct) return undefined;
  const via = verdict.via ? ` (${verdict.embedded ?? ''} via ${verdict.via})` : '';
  return `refused address ${address}: ${verdict.kind}${via}`;
}
