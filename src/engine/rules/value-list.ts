import type { Dimension, Rule } from '../../domain/schemas/ruleset.js';
import type { MatchInput } from '../match-input.js';
import { rulesFor, valueSet, type RuleCheck } from './rule-check.js';

/** A dimension matched by exact (case-insensitive) values: most of SPEC §6. */
export interface ValueDimension {
  readonly dimension: Dimension;
  readonly reason: number;
  /** The visitor's lower-cased value, or null when unknown. */
  read(input: MatchInput): string | null;
}

/**
 * Include/exclude lists of one dimension. An unknown value fails a non-empty include list and
 * passes any exclude list; a known value on the exclude list fails even if it is also included.
 */
export function compileValueList(spec: ValueDimension, rules: readonly Rule[]): RuleCheck | null {
  const { include, exclude } = rulesFor(rules, spec.dimension);
  if (include.length === 0 && exclude.length === 0) return null;
  const included = valueSet(include);
  const excluded = valueSet(exclude);
  const hasIncludes = include.length > 0;
  return {
    dimension: spec.dimension,
    reason: spec.reason,
    test(input) {
      const value = spec.read(input);
      if (value === null) return !hasIncludes;
      if (excluded.has(value)) return false;
      return !hasIncludes || included.has(value);
    },
  };
}
