import { describe, expect, it } from 'vitest';
import { classifyAddress, refusalReason, type AddressKind } from '../../src/outbound/index.js';

const TABLE: [address: string, kind: AddressKind][] = [
  // IPv4
  ['8.8.8.8', 'public'],
  ['1.1.1.1', 'public'],
  ['93.184.216.34', 'public'],
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'reserved'],
  ['10.0.0.1', 'private'],
  ['10.255.255.255', 'private'],
  ['100.64.0.1', 'cgnat'],
  ['100.127.255.254', 'cgnat'],
  ['100.128.0.1', 'public'],
  ['100.100.100.200', 'metadata'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['169.254.169.254', 'metadata'],
  ['169.254.1.1', 'link-local'],
  ['168.63.129.16', 'metadata'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['172.32.0.1', 'public'],
  ['192.0.0.192', 'reserved'],
  ['192.0.2.10', 'documentation'],
  ['192.88.99.1', 'reserved'],
  ['192.168.1.1', 'private'],
  ['198.18.0.1', 'benchmarking'],
  ['198.19.255.255', 'benchmarking'],
  ['198.51.100.7', 'documentation'],
  ['203.0.113.9', 'documentation'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.255', 'broadcast'],
  // IPv6
  ['2606:4700:4700::1111', 'public'],
  ['2001:4860:4860::8888', 'public'],
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['fc00::1', 'unique-local'],
  ['fd12:3456:789a::1', 'unique-local'],
  ['fd00:ec2::254', 'metadata'],
  ['fec0::1', 'reserved'],
  ['ff02::1', 'multicast'],
  ['2001:db8::1', 'documentation'],
  ['3fff::1', 'documentation'],
  ['2001::1', 'reserved'], // Teredo
  ['2001:2::1', 'reserved'], // benchmarking
  ['100::1', 'reserved'],
  ['5f00::1', 'reserved'],
  ['4000::1', 'reserved'], // outside global unicast 2000::/3
  ['64:ff9b:1::a00:1', 'reserved'],
  // IPv4 embedded in IPv6
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::ffff:10.0.0.1', 'private'],
  ['::ffff:a9fe:a9fe', 'metadata'],
  ['::ffff:8.8.8.8', 'public'],
  ['::ffff:0:7f00:1', 'loopback'], // IPv4-translated (SIIT)
  ['::127.0.0.1', 'loopback'], // IPv4-compatible
  ['::8.8.8.8', 'reserved'], // IPv4-compatible is refused even for a public address
  ['64:ff9b::7f00:1', 'loopback'], // NAT64
  ['64:ff9b::10.0.0.1', 'private'],
  ['64:ff9b::169.254.169.254', 'metadata'],
  ['64:ff9b::808:808', 'public'],
  ['2002:7f00:1::1', 'loopback'], // 6to4
  ['2002:c0a8:101::', 'private'],
  ['2002:a9fe:a9fe::1', 'metadata'],
  ['2002:808:808::1', 'public'],
  // Not addresses
  ['localhost', 'invalid'],
  ['', 'invalid'],
  ['1.2.3', 'invalid'],
  ['::ffff:999.1.1.1', 'invalid'],
];

describe('address classifier', () => {
  it.each(TABLE)('classifies %s as %s', (address, kind) => {
    expect(classifyAddress(address).kind).toBe(kind);
  });

  it('allows only public addresses by default', () => {
    for (const [address, kind] of TABLE) {
      expect(refusalReason(address, false) === undefined, address).toBe(kind === 'public');
    }
  });

  it('the loopback test switch admits plain loopback and widens nothing else', () => {
    const loopbackReached = new Set(['127.0.0.1', '127.255.255.254', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '::ffff:7f00:1']);
    for (const [address, kind] of TABLE) {
      const allowed = refusalReason(address, true) === undefined;
      expect(allowed, address).toBe(kind === 'public' || loopbackReached.has(address));
    }
  });

  it('a refusal names the address and what it is, including the embedded IPv4', () => {
    expect(refusalReason('10.0.0.1', false)).toBe('refused address 10.0.0.1: private');
    expect(refusalReason('64:ff9b::a00:1', false)).toBe('refused address 64:ff9b::a00:1: private (10.0.0.1 via nat64)');
  });
});
