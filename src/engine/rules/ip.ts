import type { Rule } from '../../domain/schemas/ruleset.js';
import { parseNetwork, wordMask, type IpAddress, type IpNetwork } from '../ip-address.js';
import { REASON } from '../reasons.js';
import { rulesFor, type RuleCheck } from './rule-check.js';

/** Parses CIDR networks (or single addresses) of both families, once. */
function networks(rules: readonly Rule[]): IpNetwork[] {
  // Values were validated on write; anything unparseable here cannot match and is ignored.
  return rules.flatMap((rule) => rule.values ?? []).map(parseNetwork).filter((n): n is IpNetwork => n !== null);
}

/** The top `bits` bits of a 32-bit word (0 to 32 of them). */
function maskWord(word: number, bits: number): number {
  return (word & wordMask(bits)) >>> 0;
}

/** The network an address falls in at `prefix` bits: one number for IPv4, a string key for IPv6. */
function v6Key(words: readonly number[], prefix: number): string {
  let key = '';
  for (let k = 0; k < 4 && prefix - 32 * k > 0; k++) key += `${maskWord(words[k] ?? 0, prefix - 32 * k)}:`;
  return key;
}

/**
 * Networks grouped by family and prefix length, each group a Set of network addresses: an address
 * is looked up with one Set read per distinct prefix length, however many networks a list holds.
 * (A scan compared every network: an offer's 1,000-network blocklist cost each entry ~0.3 ms a click.)
 */
interface NetworkSet {
  readonly v4: readonly { readonly prefix: number; readonly keys: ReadonlySet<number> }[];
  readonly v6: readonly { readonly prefix: number; readonly keys: ReadonlySet<string> }[];
}

function networkSet(list: readonly IpNetwork[]): NetworkSet {
  const v4 = new Map<number, Set<number>>();
  const v6 = new Map<number, Set<string>>();
  for (const network of list) {
    if (network.family === 4) {
      let keys = v4.get(network.prefix);
      if (keys === undefined) v4.set(network.prefix, (keys = new Set()));
      keys.add(maskWord(network.words[0] ?? 0, network.prefix));
    } else {
      let keys = v6.get(network.prefix);
      if (keys === undefined) v6.set(network.prefix, (keys = new Set()));
      keys.add(v6Key(network.words, network.prefix));
    }
  }
  return {
    v4: [...v4].map(([prefix, keys]) => ({ prefix, keys })),
    v6: [...v6].map(([prefix, keys]) => ({ prefix, keys })),
  };
}

function contains(set: NetworkSet, ip: IpAddress): boolean {
  if (ip.family === 4) {
    const word = ip.words[0] ?? 0;
    for (let i = 0; i < set.v4.length; i++) {
      const group = set.v4[i];
      if (group !== undefined && group.keys.has(maskWord(word, group.prefix))) return true;
    }
    return false;
  }
  for (let i = 0; i < set.v6.length; i++) {
    const group = set.v6[i];
    if (group !== undefined && group.keys.has(v6Key(ip.words, group.prefix))) return true;
  }
  return false;
}

/** The click IP against CIDR lists, IPv4 and IPv6; IPv4-mapped addresses count as IPv4 (reason 13). */
export function compileIp(rules: readonly Rule[]): RuleCheck | null {
  const { include, exclude } = rulesFor(rules, 'ip');
  if (include.length === 0 && exclude.length === 0) return null;
  const included = networkSet(networks(include));
  const excluded = networkSet(networks(exclude));
  const hasIncludes = include.length > 0;
  return {
    dimension: 'ip',
    reason: REASON.IP,
    test(input) {
      const ip = input.ip;
      if (ip === null) return !hasIncludes;
      if (contains(excluded, ip)) return false;
      return !hasIncludes || contains(included, ip);
    },
  };
}
