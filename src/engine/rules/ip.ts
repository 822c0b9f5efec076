import type { Rule } from '../../domain/schemas/ruleset.js';
import { networkContains, parseNetwork, type IpAddress, type IpNetwork } from '../ip-address.js';
import { REASON } from '../reasons.js';
import { rulesFor, type RuleCheck } from './rule-check.js';

/** Parses CIDR networks (or single addresses) of both families, once. */
function networks(rules: readonly Rule[]): IpNetwork[] {
  // Values were validated on write; anything unparseable here cannot match and is ignored.
  return rules.flatMap((rule) => rule.values ?? []).map(parseNetwork).filter((n): n is IpNetwork => n !== null);
}

/** The click IP against CIDR lists, IPv4 and IPv6; IPv4-mapped addresses count as IPv4 (reason 13). */
export function compileIp(rules: readonly Rule[]): RuleCheck | null {
  const { include, exclude } = rulesFor(rules, 'ip');
  if (include.length === 0 && exclude.length === 0) return null;
  const included = networks(include);
  const excluded = networks(exclude);
  const hasIncludes = include.length > 0;
  return {
    dimension: 'ip',
    reason: REASON.IP,
    test(input) {
      const ip = input.ip;
      if (ip === null) return !hasIncludes;
      if (excluded.length > 0 && anyContains(excluded, ip)) return false;
      return !hasIncludes || anyContains(included, ip);
    },
  };
}

// A plain loop rather than `.some(closure)`: this runs once per entry on every decision.
function anyContains(list: readonly IpNetwork[], ip: IpAddress): boolean {
  for (let i = 0; i < list.length; i++) {
    const network = list[i];
    if (network !== undefined && networkContains(network, ip)) return true;
  }
  return false;
}
