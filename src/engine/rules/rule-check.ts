import type { Dimension, Rule } from '../../domain/schemas/ruleset.js';
import type { MatchInput } from '../match-input.js';

/** One compiled targeting dimension: a predicate plus the reason code it reports when it fails. */
export interface RuleCheck {
  readonly dimension: Dimension | 'day_parting';
  readonly reason: number;
  test(input: MatchInput): boolean;
}

/** The rules of a ruleset that target `dimension`, split by op. */
export function rulesFor(rules: readonly Rule[], dimension: Dimension): { include: Rule[]; exclude: Rule[] } {
  const mine = rules.filter((rule) => rule.dimension === dimension);
  return { include: mine.filter((r) => r.op === 'include'), exclude: mine.filter((r) => r.op === 'exclude') };
}

/** Every value of the given rules, lower-cased, in one set (OR within a dimension). */
export function valueSet(rules: readonly Rule[]): ReadonlySet<string> {
  return new Set(rules.flatMap((rule) => (rule.values ?? []).map((value) => value.toLowerCase())));
}
