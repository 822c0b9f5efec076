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
  const { dimension, reason, read } = spec;
  // One-sided lists (the usual case) get a test that touches only the set it needs: on links with
  // hundreds of entries every extra object read per check is a likely cache miss.
  if (exclude.length === 0) return { dimension, reason, test: (input) => { const v = read(input); return v !== null && included.has(v); } };
  if (include.length === 0) return { dimension, reason, test: (input) => { const v = read(input); return v === null || !excluded.has(v); } };
  return {
    dimension,
    reason,
    test(input) {
      const value = read(input);
      if (value === null) return false;
      return !excluded.has(value) && included.has(value);
    },
  };
}
