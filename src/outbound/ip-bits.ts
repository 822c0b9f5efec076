import { isIPv4, isIPv6 } from 'node:net';

/**
 * Textual IP addresses as integers, so range checks are plain arithmetic with no library whose
 * parser an attacker could out-guess. Only canonical forms are accepted here: URL hosts are
 * normalised by the WHATWG parser first, and resolver answers are already canonical.
 */

/** A dotted-quad IPv4 address as an unsigned 32-bit number; undefined when `text` is not one. */
export function ipv4ToNumber(text: string): number | undefined {
  if (!isIPv4(text)) return undefined;
  return text.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export function numberToIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/**
 * An IPv6 address (with or without an embedded dotted quad or a `%zone`) as a 128-bit bigint;
 * undefined when `text` is not one.
 */
export function ipv6ToBigInt(text: string): bigint | undefined {
  const zone = text.indexOf('%');
  let address = zone >= 0 ? text.slice(0, zone) : text;
  if (!isIPv6(address)) return undefined;
  // "::ffff:1.2.3.4" → "::ffff:102:304", so the rest deals with hex groups only.
  const lastColon = address.lastIndexOf(':');
  const tail = address.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = ipv4ToNumber(tail);
    if (v4 === undefined) return undefined;
    address = `${address.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string | undefined) => (part ? part.split(':') : []);
  const head = groupsOf(halves[0]);
  const rest = groupsOf(halves[1]);
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    value = (value << 16n) | BigInt(parseInt(group, 16));
  }
  return value;
}

/** Whether `value` lies in `base/prefix` (IPv6). */
export function inV6(value: bigint, base: bigint, prefix: number): boolean {
  const shift = BigInt(128 - prefix);
  return value >> shift === base >> shift;
}

/** Whether `value` lies in `base/prefix` (IPv4). */
export function inV4(value: number, base: number, prefix: number): boolean {
  if (prefix === 0) return true;
  const shift = 32 - prefix;
  return Math.floor(value / 2 ** shift) === Math.floor(base / 2 ** shift);
}
